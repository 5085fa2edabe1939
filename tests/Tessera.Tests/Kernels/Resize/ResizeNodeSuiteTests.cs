using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Resize;

public class ResizeNodeSuiteTests
{
    public static IEnumerable<object[]> Cases() => NodeSuite.Cases("test_resize", "test_upsample").Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
