using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Normalization;

public sealed class NormalizationNodeSuiteTests
{
    // The *_expanded variants are built from other families' operators, so they are not this family's to pass.
    public static TheoryData<string> Cases() =>
        new(NodeSuite.Cases("test_batchnorm", "test_instancenorm", "test_layer_normalization")
            .Where(name => !name.EndsWith("_expanded", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
