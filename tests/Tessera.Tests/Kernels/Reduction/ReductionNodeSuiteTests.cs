using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Reduction;

public sealed class ReductionNodeSuiteTests
{
    // The *_expanded variants are built from other families' operators (Constant, Exp, Div, ...), so they are left out.
    public static IEnumerable<object[]> Cases() => NodeSuite.Cases(
            "test_reduce_sum_", "test_reduce_mean_", "test_reduce_max_", "test_reduce_min_", "test_reduce_prod_",
            "test_reduce_l2_", "test_argmax_", "test_argmin_", "test_softmax_", "test_logsoftmax_", "test_cumsum_", "test_top_k")
        .Where(name => !name.EndsWith("_expanded", StringComparison.Ordinal))
        .Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string caseName) => NodeSuite.AssertPasses(caseName);
}
