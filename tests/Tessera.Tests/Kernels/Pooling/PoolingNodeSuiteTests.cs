using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Pooling;

public sealed class PoolingNodeSuiteTests
{
    public static TheoryData<string> Cases() =>
        new(NodeSuite.Cases("test_averagepool", "test_maxpool", "test_globalaveragepool", "test_globalmaxpool"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
