using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Indexing;

public class IndexingNodeSuiteTests
{
    // test_scatter_with_axis / test_scatter_without_axis use the deprecated Scatter op and are not included.
    public static IEnumerable<object[]> Cases() => NodeSuite.Cases(
            "test_gather", "test_scatter_elements", "test_scatternd", "test_onehot", "test_tril", "test_triu",
            "test_depthtospace", "test_spacetodepth", "test_constant_pad", "test_edge_pad", "test_reflect_pad")
        .Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
