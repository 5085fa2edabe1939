using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Convolution;

public sealed class ConvolutionNodeSuiteTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in NodeSuite.Cases("test_basic_conv_", "test_conv_with_", "test_convtranspose"))
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
