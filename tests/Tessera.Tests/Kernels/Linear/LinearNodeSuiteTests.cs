using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Linear;

public sealed class LinearNodeSuiteTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in NodeSuite.Cases("test_matmul_", "test_gemm_"))
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
