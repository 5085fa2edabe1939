using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

public class GeluKernelTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void MatchesTheScalarDefinitionAtEveryLength(string approximate)
    {
        var attributes = new Dictionary<string, NodeAttribute>
        {
            ["approximate"] = new() { Name = "approximate", Kind = AttributeKind.String, String = approximate },
        };
        Assert.True(KernelRegistry.Default.TryResolve(TesseraDomain.Name, "Gelu", 1, out var factory));
        Assert.True(KernelRegistry.Default.Supports(string.Empty, "Gelu", 20));
        var kernel = factory(new KernelInfo("Gelu", TesseraDomain.Name, 1, "gelu", 1, 1, attributes, _ => null, ParallelRunner.Sequential));
        for (int n = 0; n <= 70; n++)
        {
            var x = Tensor.FromArray(RandomFloats(n, n, 6f), n);
            var context = new KernelContext([x], 1, [true], ParallelRunner.Sequential);
            kernel.Compute(context);
            var y = context.Output(0)!.Span<float>();
            for (int i = 0; i < n; i++)
            {
                float want = ReferenceFusedKernels.Activate(approximate == "none" ? "Gelu" : "GeluTanh", [], x.Span<float>()[i]);
                Assert.True(Math.Abs(y[i] - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"n={n} i={i}: {y[i]} vs {want}");
            }
        }
    }

    [Fact]
    public void DoublesUseTheScalarPath()
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, "Gelu", 20, out var factory));
        var kernel = factory(new KernelInfo("Gelu", string.Empty, 20, "gelu", 1, 1, new Dictionary<string, NodeAttribute>(), _ => null, ParallelRunner.Sequential));
        var x = Tensor.FromArray(new[] { -1.0, 0.0, 2.0 }, 3);
        var context = new KernelContext([x], 1, [true], ParallelRunner.Sequential);
        kernel.Compute(context);
        Assert.Equal([-0.15865525393145707, 0.0, 1.9544997361036416], context.Output(0)!.ToArray<double>(), (a, b) => Math.Abs(a - b) < 1e-12);
    }
}
