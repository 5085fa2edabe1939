using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Layout;

/// <summary>Builds a layout kernel through the registry and runs it on given inputs; also makes random tensors and compares them.</summary>
internal static class LayoutHarness
{
    public static Tensor?[] Run(string opType, int opset, Tensor?[] inputs, int threads, int outputCount = 1, params NodeAttribute[] attributes)
    {
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, opType, opset, out var factory), $"{opType} is not registered");
        var parallel = new ParallelRunner(threads);
        var info = new KernelInfo(opType, string.Empty, opset, "test", inputs.Length, outputCount,
            attributes.ToDictionary(a => a.Name), _ => null, parallel);
        var kernel = factory(info);
        var requested = Enumerable.Repeat(true, outputCount).ToArray();
        var context = new KernelContext(inputs, outputCount, requested, parallel);
        kernel.Compute(context);
        return Enumerable.Range(0, outputCount).Select(context.Output).ToArray();
    }

    public static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static Tensor Longs(params long[] values) => Tensor.FromArray(values, values.Length);

    /// <summary>The element types the movers distinguish: 1, 2, 4 and 8-byte words and strings.</summary>
    public static readonly DataType[] WordTypes = [DataType.UInt8, DataType.Float16, DataType.Float32, DataType.Int64, DataType.String];

    public static Tensor Random(Random random, DataType type, int[] shape)
    {
        int length = ShapeMath.ElementCount(shape);
        if (type == DataType.String)
        {
            var strings = new string[length];
            for (int i = 0; i < length; i++)
            {
                strings[i] = "s" + random.Next(1000);
            }

            return Tensor.FromStrings(strings, shape);
        }

        var tensor = Tensor.Allocate(type, shape);
        random.NextBytes(tensor.Bytes);
        return tensor;
    }

    /// <summary>A tensor of the given shape whose element i is source element map(i), copied as raw words.</summary>
    public static Tensor Gather(Tensor source, int[] shape, Func<int[], int> sourceIndex)
    {
        var result = Tensor.Allocate(source.DataType, shape);
        int length = result.Length;
        var index = new int[shape.Length];
        int size = source.ElementSize;
        for (int i = 0; i < length; i++)
        {
            int rem = i;
            for (int k = shape.Length - 1; k >= 0; k--)
            {
                index[k] = rem % shape[k];
                rem /= shape[k];
            }

            int from = sourceIndex(index);
            if (source.DataType == DataType.String)
            {
                result.Strings[i] = source.Strings[from];
            }
            else
            {
                source.Bytes.Slice(from * size, size).CopyTo(result.Bytes.Slice(i * size, size));
            }
        }

        return result;
    }

    public static void AssertSame(Tensor expected, Tensor? actual, string what)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.DataType, actual.DataType);
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{what}: shape {ShapeMath.Format(actual.Shape)}, expected {ShapeMath.Format(expected.Shape)}");
        if (expected.DataType == DataType.String)
        {
            Assert.True(expected.Strings.SequenceEqual(actual.Strings), $"{what}: strings differ");
        }
        else
        {
            Assert.True(expected.Bytes.SequenceEqual(actual.Bytes), $"{what}: bytes differ");
        }
    }
}
