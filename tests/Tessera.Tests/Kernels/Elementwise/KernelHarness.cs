using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Elementwise;

/// <summary>Builds a registered kernel for one node and computes it, as the executor would.</summary>
internal static class KernelHarness
{
    public static Tensor Run(string opType, int opset, Tensor?[] inputs, int degree = 1, params NodeAttribute[] attributes) =>
        RunAll(opType, opset, inputs, 1, degree, attributes)[0]!;

    public static Tensor?[] RunAll(string opType, int opset, Tensor?[] inputs, int outputCount, int degree, params NodeAttribute[] attributes)
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, opType, opset, out var factory), $"{opType}-{opset} is not registered");
        var parallel = new ParallelRunner(degree);
        var info = new KernelInfo(opType, string.Empty, opset, "test", inputs.Length, outputCount,
            attributes.ToDictionary(a => a.Name), _ => null, parallel);
        var kernel = factory(info);
        var requested = Enumerable.Repeat(true, outputCount).ToArray();
        var context = new KernelContext(inputs, outputCount, requested, parallel);
        kernel.Compute(context);
        return Enumerable.Range(0, outputCount).Select(context.Output).ToArray();
    }

    public static NodeAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };

    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static NodeAttribute String(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    /// <summary>Deterministic values in [-range, range), with some exact zeros and halves so sign and rounding edges occur.</summary>
    public static float[] RandomFloats(int count, int seed, float range = 4f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (i % 17) switch
            {
                0 => 0f,
                1 => MathF.Round((float)(random.NextDouble() * 2 - 1) * range) + 0.5f,
                _ => (float)(random.NextDouble() * 2 - 1) * range,
            };
        }

        return values;
    }

    /// <summary>The value a broadcasting input contributes at output position <paramref name="flat"/>.</summary>
    public static int SourceIndex(int[] outputShape, int[] inputShape, int flat)
    {
        int offset = 0, stride = 1;
        for (int d = outputShape.Length - 1; d >= 0; d--)
        {
            int coordinate = flat % outputShape[d];
            flat /= outputShape[d];
            int id = d - (outputShape.Length - inputShape.Length);
            if (id >= 0)
            {
                if (inputShape[id] != 1) offset += coordinate * stride;
                stride *= inputShape[id];
            }
        }

        return offset;
    }
}
