using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Layout;

public sealed class LayoutNodeSuiteTests
{
    // test_constant_pad is Pad's; the *_expanded Range cases are built from Loop and other families' operators.
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in NodeSuite.Cases(
            "test_concat", "test_constant", "test_expand", "test_flatten", "test_range", "test_reshape", "test_shape",
            "test_size", "test_slice", "test_split", "test_squeeze", "test_unsqueeze", "test_tile", "test_transpose"))
        {
            if (!name.StartsWith("test_constant_pad", StringComparison.Ordinal) && !name.EndsWith("_expanded", StringComparison.Ordinal))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
