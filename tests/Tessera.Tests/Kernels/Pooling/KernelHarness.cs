using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Pooling;

/// <summary>Builds one kernel through the default registry and computes it, as the executor would.</summary>
internal static class KernelHarness
{
    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static NodeAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };

    public static NodeAttribute String(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    public static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    /// <param name="constants">Which inputs the kernel may treat as constants known at build time.</param>
    public static Tensor?[] Run(string opType, int opset, IEnumerable<NodeAttribute> attributes, Tensor?[] inputs, int outputCount,
        int degree = 1, bool[]? requested = null, bool[]? constants = null)
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, opType, opset, out var factory), $"{opType} at opset {opset} is not registered");
        var parallel = new ParallelRunner(degree);
        var attributeMap = attributes.ToDictionary(a => a.Name);
        var info = new KernelInfo(opType, string.Empty, opset, "test", inputs.Length, outputCount, attributeMap,
            i => constants is not null && i < constants.Length && constants[i] ? inputs[i] : null, parallel);
        IKernel kernel = factory(info);
        requested ??= Enumerable.Repeat(true, outputCount).ToArray();
        var context = new KernelContext(inputs, outputCount, requested, parallel);
        kernel.Compute(context);
        return Enumerable.Range(0, outputCount).Select(context.Output).ToArray();
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(e - a) <= atol + rtol * Math.Abs(e)) && !(double.IsNaN(e) && double.IsNaN(a)))
            {
                Assert.Fail($"{what}: element {i} is {a}, expected {e}");
            }
        }
    }

    public static double[] ToDoubles(Tensor t) => t.DataType switch
    {
        DataType.Float32 => t.Span<float>().ToArray().Select(v => (double)v).ToArray(),
        DataType.Float64 => t.ToArray<double>(),
        DataType.Float16 => t.Span<Half>().ToArray().Select(v => (double)v).ToArray(),
        DataType.UInt8 => t.Span<byte>().ToArray().Select(v => (double)v).ToArray(),
        DataType.Int8 => t.Span<sbyte>().ToArray().Select(v => (double)v).ToArray(),
        DataType.Int64 => t.Span<long>().ToArray().Select(v => (double)v).ToArray(),
        _ => throw new NotSupportedException(t.DataType.ToString()),
    };

    public static Tensor RandomTensor(Random random, DataType type, int[] shape)
    {
        int count = ShapeMath.ElementCount(shape);
        return type switch
        {
            DataType.Float32 => Tensor.FromArray(Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(), shape),
            DataType.Float64 => Tensor.FromArray(Enumerable.Range(0, count).Select(_ => random.NextDouble() * 4 - 2).ToArray(), shape),
            DataType.Float16 => Tensor.FromArray(Enumerable.Range(0, count).Select(_ => (Half)(random.NextDouble() * 4 - 2)).ToArray(), shape),
            DataType.UInt8 => Tensor.FromArray(Enumerable.Range(0, count).Select(_ => (byte)random.Next(256)).ToArray(), shape),
            DataType.Int8 => Tensor.FromArray(Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-128, 128)).ToArray(), shape),
            _ => throw new NotSupportedException(type.ToString()),
        };
    }
}
