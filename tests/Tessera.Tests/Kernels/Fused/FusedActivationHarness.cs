using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Fused;

/// <summary>Runs nodes of any domain through the default registry, and an activation as the unfused ONNX operators compute it.</summary>
internal static class FusedActivationHarness
{
    public static readonly (string Name, float[]? Params)[] Activations =
    [
        ("Relu", null), ("LeakyRelu", [0.07f]), ("LeakyRelu", null), ("Clip", [-0.3f, 0.45f]), ("Clip", [0f, 6f]),
        ("HardSigmoid", [0.3f, 0.4f]), ("HardSigmoid", null), ("HardSwish", null), ("Sigmoid", null), ("Tanh", null),
        ("Gelu", null), ("GeluTanh", null),
    ];

    public static Tensor Run(string domain, string opType, int opset, Dictionary<string, NodeAttribute> attributes, Tensor?[] inputs,
        bool[] constant, ParallelRunner parallel)
    {
        Assert.True(KernelRegistry.Default.TryResolve(domain, opType, opset, out var factory), $"{domain}:{opType} is not registered");
        var info = new KernelInfo(opType, domain, opset, "node", inputs.Length, 1, attributes,
            i => i < constant.Length && constant[i] ? inputs[i] : null, parallel);
        var kernel = factory(info);
        var context = new KernelContext(inputs, 1, [true], parallel);
        kernel.Compute(context);
        return context.Output(0) ?? throw new InvalidOperationException("no output");
    }

    /// <summary>The fused node's attributes for an activation, added to <paramref name="attributes"/>.</summary>
    public static Dictionary<string, NodeAttribute> WithActivation(Dictionary<string, NodeAttribute> attributes, string name, float[]? parameters)
    {
        var result = new Dictionary<string, NodeAttribute>(attributes)
        {
            ["activation"] = KernelHarness.String("activation", name),
        };
        if (parameters is not null)
        {
            result["activation_params"] = new NodeAttribute { Name = "activation_params", Kind = AttributeKind.Floats, Floats = parameters };
        }

        return result;
    }

    /// <summary>The activation of x computed by the standard operators (Gelu as its usual Div/Erf/Add/Mul/Mul subgraph).</summary>
    public static Tensor Unfused(string name, float[]? p, Tensor x, ParallelRunner parallel)
    {
        Tensor Op(string op, int opset, Tensor?[] inputs, params NodeAttribute[] attributes) =>
            KernelHarness.Run(op, opset, KernelHarness.Attributes(attributes), inputs, new bool[inputs.Length], parallel);
        Tensor Scalar(float v) => Tensor.FromArray(new[] { v });
        switch (name)
        {
            case "Relu":
            case "HardSwish":
            case "Sigmoid":
            case "Tanh":
                return Op(name, 14, [x]);
            case "LeakyRelu":
                return p is null ? Op(name, 16, [x]) : Op(name, 16, [x], KernelHarness.Float("alpha", p[0]));
            case "Clip":
                return Op(name, 13, [x, Scalar(p![0]), Scalar(p[1])]);
            case "HardSigmoid":
                return p is null ? Op(name, 6, [x]) : Op(name, 6, [x], KernelHarness.Float("alpha", p[0]), KernelHarness.Float("beta", p[1]));
            case "Gelu":
                var erf = Op("Erf", 13, [Op("Div", 14, [x, Scalar(1.4142135f)])]);
                return Op("Mul", 14, [Op("Mul", 14, [x, Op("Add", 14, [erf, Scalar(1f)])]), Scalar(0.5f)]);
            case "GeluTanh":
                var values = x.ToArray<float>().Select(v =>
                    (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * (double)v * v))))).ToArray();
                return Tensor.FromArray(values, x.Shape);
            default:
                throw new ArgumentException(name);
        }
    }

    public static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.Span<float>();
        var a = actual.Span<float>();
        for (int i = 0; i < e.Length; i++)
        {
            float err = Math.Abs(e[i] - a[i]);
            if (!(err <= 2e-5f + 2e-4f * Math.Abs(e[i])))
            {
                Assert.Fail($"{what}: element {i} is {a[i]}, expected {e[i]}");
            }
        }
    }
}
