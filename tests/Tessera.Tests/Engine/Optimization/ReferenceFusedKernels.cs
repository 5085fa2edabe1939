using Tessera.Kernels.Core;
using Tessera.Kernels.Elementwise;
using Tessera.Tensors;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// Plain reference kernels for com.tessera FusedConv, FusedGemm and FusedMatMul (the standard kernel, then the
/// bias over the last axis for FusedMatMul, then the activation element by element), added to a fresh default
/// registry where the real ones are missing, so the fusion passes can be checked numerically on their own.
/// </summary>
internal static class ReferenceFusedKernels
{
    private static readonly string[] s_convAttributes = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"];
    private static readonly string[] s_gemmAttributes = ["alpha", "beta", "transA", "transB"];

    /// <summary>The default kernels, with reference fused kernels where real ones are not registered.</summary>
    public static KernelRegistry Registry() => AddMissing(KernelRegistry.CreateDefault(), _ => true);

    /// <summary>
    /// The elementwise family, the standard Conv, Gemm and MatMul kernels, and reference fused kernels that take
    /// only some activations (the real fused kernels, which the linear and convolution families register, are left out).
    /// </summary>
    public static KernelRegistry Restricted(Func<string, bool> acceptsActivation)
    {
        var registry = new KernelRegistry();
        ElementwiseKernels.Register(registry);
        foreach (string op in new[] { "Conv", "Gemm", "MatMul" })
        {
            Assert.True(KernelRegistry.Default.TryResolve(string.Empty, op, 13, out var factory));
            registry.Register(op, 1, factory);
        }

        return AddMissing(registry, acceptsActivation);
    }

    private static KernelRegistry AddMissing(KernelRegistry registry, Func<string, bool> acceptsActivation)
    {
        foreach (var (fused, inner, opset, attributes, inputs) in new[]
        {
            ("FusedConv", "Conv", 11, s_convAttributes, 3),
            ("FusedGemm", "Gemm", 13, s_gemmAttributes, 3),
            ("FusedMatMul", "MatMul", 13, Array.Empty<string>(), 2),
        })
        {
            if (registry.Supports(TesseraDomain.Name, fused, TesseraDomain.Version)) continue;
            registry.TryResolve(string.Empty, inner, opset, out var innerFactory);
            registry.Register(TesseraDomain.Name, fused, 1, info =>
            {
                string activation = info.GetString("activation", string.Empty);
                if (activation.Length > 0 && !acceptsActivation(activation)) throw new KernelException($"activation {activation} not supported");
                var attrs = attributes.Where(info.HasAttribute).ToDictionary(a => a, a => info.GetAttribute(a)!);
                var innerInfo = new KernelInfo(inner, string.Empty, opset, info.NodeName, Math.Min(info.InputCount, inputs), 1, attrs, info.ConstantInput, info.Parallel);
                return new Kernel(innerFactory(innerInfo), inputs, fused == "FusedMatMul", activation, info.GetFloats("activation_params") ?? []);
            });
        }

        return registry;
    }

    public static float Activate(string activation, float[] p, float x) => activation switch
    {
        "" => x,
        "Relu" => Math.Max(0, x),
        "LeakyRelu" => x < 0 ? p[0] * x : x,
        "Clip" => Math.Min(Math.Max(x, p[0]), p[1]),
        "HardSigmoid" => Math.Max(0, Math.Min(1, p[0] * x + p[1])),
        "HardSwish" => x * Math.Max(0, Math.Min(1, x / 6 + 0.5f)),
        "Sigmoid" => 1 / (1 + MathF.Exp(-x)),
        "Tanh" => MathF.Tanh(x),
        "Gelu" => (float)(0.5 * x * (1 + ErfMath.Erf(x / Math.Sqrt(2)))),
        "GeluTanh" => (float)(0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        _ => throw new KernelException($"unknown activation {activation}"),
    };

    private sealed class Kernel(IKernel inner, int innerInputs, bool bias, string activation, float[] parameters) : IKernel
    {
        public void Compute(KernelContext context)
        {
            var inputs = Enumerable.Range(0, innerInputs).Select(context.Input).ToArray();
            var innerContext = new KernelContext(inputs, 1, [true], context.Parallel);
            inner.Compute(innerContext);
            var y = innerContext.Output(0)!.Clone();
            var values = y.Span<float>();
            if (bias && context.Input(2) is { } b)
            {
                var bs = b.Span<float>();
                for (int i = 0; i < values.Length; i++) values[i] += bs[i % bs.Length];
            }

            for (int i = 0; i < values.Length; i++) values[i] = Activate(activation, parameters, values[i]);
            context.SetOutput(0, y);
        }
    }
}
