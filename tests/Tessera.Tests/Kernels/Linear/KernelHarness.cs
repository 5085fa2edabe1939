using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Linear;

/// <summary>Builds one node's kernel through the default registry and runs it, as the executor would.</summary>
internal static class KernelHarness
{
    public static Tensor Run(string opType, int opset, Dictionary<string, NodeAttribute> attributes, Tensor?[] inputs,
        bool[] constant, ParallelRunner parallel)
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, opType, opset, out var factory), $"{opType} is not registered");
        var info = new KernelInfo(opType, string.Empty, opset, "node", inputs.Length, 1, attributes,
            i => i < constant.Length && constant[i] ? inputs[i] : null, parallel);
        var kernel = factory(info);
        var context = new KernelContext(inputs, 1, [true], parallel);
        kernel.Compute(context);
        return context.Output(0) ?? throw new InvalidOperationException("no output");
    }

    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static NodeAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };

    public static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    public static NodeAttribute String(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    public static Dictionary<string, NodeAttribute> Attributes(params NodeAttribute[] attributes) =>
        attributes.ToDictionary(a => a.Name, a => a);

    public static float[] Random(Random random, int count)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return data;
    }

    /// <summary>Asserts |actual - expected| &lt;= tol * scale + 1e-6 for each element, where scale bounds the rounding error.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, ReadOnlySpan<double> scale, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (!(err <= tol * scale[i] + 1e-6))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {err}, scale {scale[i]})");
            }
        }
    }
}
