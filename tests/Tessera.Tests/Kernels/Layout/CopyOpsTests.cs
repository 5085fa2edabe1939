using Tessera.Tensors;
using static Tessera.Tests.Kernels.Layout.LayoutHarness;

namespace Tessera.Tests.Kernels.Layout;

/// <summary>Tile, Expand, Concat and Split against element-by-element references, on one and two threads.</summary>
public sealed class CopyOpsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TileMatchesReference(int threads)
    {
        var random = new Random(3);
        for (int trial = 0; trial < 120; trial++)
        {
            int rank = random.Next(1, 4);
            var shape = Enumerable.Range(0, rank).Select(_ => random.Next(1, 6)).ToArray();
            var repeats = Enumerable.Range(0, rank).Select(_ => (long)random.Next(0, 4)).ToArray();
            if (trial % 10 == 0)
            {
                shape = [40, 70];
                repeats = [3, 5];
            }

            var input = Random(random, WordTypes[trial % WordTypes.Length], shape);
            var outShape = shape.Select((d, k) => d * (int)repeats[k]).ToArray();
            int[] strides = ShapeMath.Strides(shape);
            var expected = Gather(input, outShape, index => index.Select((v, k) => v % shape[k] * strides[k]).Sum());
            AssertSame(expected, Run("Tile", 13, [input, Longs(repeats)], threads)[0], $"Tile {input} by [{string.Join(",", repeats)}]");
        }
    }

    [Fact]
    public void Tile1RepeatsOneAxis()
    {
        var input = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        var output = Run("Tile", 1, [input, Longs(2), Longs(1)], 1)[0]!;
        Assert.Equal([2, 4], output.Shape);
        Assert.Equal([1, 2, 1, 2, 3, 4, 3, 4], output.ToArray<int>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ExpandMatchesReference(int threads)
    {
        var random = new Random(4);
        for (int trial = 0; trial < 120; trial++)
        {
            int rank = random.Next(1, 5);
            var outShape = Enumerable.Range(0, rank).Select(_ => random.Next(1, 7)).ToArray();
            if (trial % 10 == 0)
            {
                outShape = [8, 96, 130];
            }

            // Input: a suffix of the output shape with some axes 1; target: the output shape with some axes 1 where the input is larger.
            int inRank = random.Next(0, outShape.Length + 1);
            var inShape = outShape[(outShape.Length - inRank)..].Select(d => random.Next(3) == 0 ? 1 : d).ToArray();
            var target = outShape.Select((d, k) =>
            {
                int ki = k - (outShape.Length - inRank);
                return ki >= 0 && inShape[ki] == d && random.Next(3) == 0 ? 1L : d;
            }).ToArray();
            var input = Random(random, WordTypes[trial % WordTypes.Length], inShape);
            int[] strides = ShapeMath.Strides(inShape);
            var expected = Gather(input, outShape, index =>
            {
                int offset = 0;
                for (int k = 0; k < inRank; k++)
                {
                    int v = index[k + outShape.Length - inRank];
                    offset += inShape[k] == 1 ? 0 : v * strides[k];
                }

                return offset;
            });
            AssertSame(expected, Run("Expand", 13, [input, Longs(target)], threads)[0], $"Expand {input} to [{string.Join(",", target)}]");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ConcatMatchesReference(int threads)
    {
        var random = new Random(5);
        for (int trial = 0; trial < 100; trial++)
        {
            int rank = random.Next(1, 4);
            var baseShape = Enumerable.Range(0, rank).Select(_ => random.Next(1, 6)).ToArray();
            if (trial % 10 == 0)
            {
                baseShape = [300, 40, 9];
            }

            int axis = random.Next(rank);
            var type = WordTypes[trial % WordTypes.Length];
            var inputs = Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
            {
                var s = (int[])baseShape.Clone();
                s[axis] = random.Next(0, 4);
                return Random(random, type, s);
            }).ToArray();
            var outShape = (int[])baseShape.Clone();
            outShape[axis] = inputs.Sum(t => t.Shape[axis]);

            // Reference: concatenate the inputs' flat data per row of the outer axes.
            var parts = inputs.Select(t => Gather(t, t.Shape, ix => ShapeMath.Strides(t.Shape).Select((s, k) => s * ix[k]).Sum())).ToArray();
            var expected = Gather(Stack(parts, type), outShape, index =>
            {
                int which = 0, along = index[axis];
                while (along >= inputs[which].Shape[axis])
                {
                    along -= inputs[which++].Shape[axis];
                }

                var local = (int[])index.Clone();
                local[axis] = along;
                int start = inputs.Take(which).Sum(t => t.Length);
                return start + ShapeMath.Strides(inputs[which].Shape).Select((s, k) => s * local[k]).Sum();
            });
            var actual = Run("Concat", 13, [.. inputs], threads, 1, Int("axis", axis - (trial % 2 * rank)))[0];
            AssertSame(expected, actual, $"Concat axis {axis} of {string.Join(" ", inputs.Select(t => t.ToString()))}");
        }
    }

    [Theory]
    [InlineData(13, 1)]
    [InlineData(13, 2)]
    [InlineData(18, 1)]
    public void SplitMatchesSlices(int opset, int threads)
    {
        var random = new Random(6);
        var input = Random(random, DataType.Float32, [6, 50, 70]);
        var sizes = new long[] { 10, 0, 33, 7 };
        var outputs = Run("Split", opset, [input, Longs(sizes)], threads, 4, Int("axis", -2));
        int start = 0;
        for (int k = 0; k < 4; k++)
        {
            var slice = Run("Slice", 13, [input, Longs(start), Longs(start + sizes[k]), Longs(1)], threads)[0]!;
            AssertSame(slice, outputs[k], $"part {k}");
            start += (int)sizes[k];
        }

        var axis0 = Run("Split", opset, [input], threads, 3);
        Assert.All(axis0, t => Assert.Equal([2, 50, 70], t!.Shape));
    }

    [Fact]
    public void Split18NumOutputsMakesTheLastChunkSmaller()
    {
        var input = Tensor.FromArray(Enumerable.Range(0, 7).ToArray(), 7);
        var outputs = Run("Split", 18, [input], 1, 3, Int("num_outputs", 3));
        Assert.Equal([0, 1, 2], outputs[0]!.ToArray<int>());
        Assert.Equal([3, 4, 5], outputs[1]!.ToArray<int>());
        Assert.Equal([6], outputs[2]!.ToArray<int>());
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("Split", 13, [input], 1, 3));
    }

    private static Tensor Stack(Tensor[] parts, DataType type)
    {
        int total = parts.Sum(p => p.Length);
        var result = Tensor.Allocate(type, [total]);
        int at = 0;
        foreach (var p in parts)
        {
            if (type == DataType.String)
            {
                p.Strings.CopyTo(result.Strings, at);
            }
            else
            {
                p.Bytes.CopyTo(result.Bytes[(at * p.ElementSize)..]);
            }

            at += p.Length;
        }

        return result;
    }
}
