using Tessera.Onnx.Graph;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Layout.LayoutHarness;

namespace Tessera.Tests.Kernels.Layout;

public sealed class TransposeTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(5, 1)]
    [InlineData(5, 2)]
    public void AllPermutationsMatchReference(int rank, int threads)
    {
        var random = new Random(rank * 31 + threads);
        int maxDim = rank switch { 2 => 45, 3 => 19, 4 => 9, _ => 6 };
        foreach (int[] perm in Permutations(rank))
        {
            foreach (var type in WordTypes)
            {
                var shape = new int[rank];
                for (int k = 0; k < rank; k++)
                {
                    shape[k] = random.Next(1, maxDim + 1);
                }

                Check(Random(random, type, shape), perm, threads);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LargeTransposesMatchReference(int threads)
    {
        var random = new Random(7);
        var cases = new (int[] Shape, int[] Perm)[]
        {
            ([2, 64, 12, 40], [0, 2, 1, 3]),
            ([2, 64, 12, 40], [0, 2, 3, 1]),
            ([2, 12, 64, 40], [0, 1, 3, 2]),
            ([301, 257], [1, 0]),
            ([3, 130, 200], [2, 0, 1]),
            ([17, 33, 65], [2, 1, 0]),
            ([4, 1, 96, 1, 72], [4, 3, 2, 1, 0]),
        };
        foreach (var (shape, perm) in cases)
        {
            foreach (var type in WordTypes)
            {
                Check(Random(random, type, shape), perm, threads);
            }
        }
    }

    [Fact]
    public void DefaultPermReversesAndIdentityIsAView()
    {
        var input = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var reversed = Run("Transpose", 13, [input], 1)[0]!;
        Assert.Equal([3, 2], reversed.Shape);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], reversed.ToArray<float>());

        var unit = Tensor.FromArray([1f, 2f, 3f], 1, 3, 1);
        var view = Run("Transpose", 13, [unit], 1, 1, Ints("perm", 2, 0, 1))[0]!;
        Assert.Equal([1, 1, 3], view.Shape);
        unsafe
        {
            Assert.True(view.Pointer == unit.Pointer);
        }
    }

    [Fact]
    public void RejectsBadPerm()
    {
        var input = Tensor.FromArray([1f, 2f], 1, 2);
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("Transpose", 13, [input], 1, 1, Ints("perm", 0, 0)));
        Assert.Throws<Tessera.Kernels.Core.KernelException>(() => Run("Transpose", 13, [input], 1, 1, Ints("perm", 0)));
    }

    private static void Check(Tensor input, int[] perm, int threads)
    {
        int rank = perm.Length;
        var outShape = new int[rank];
        for (int k = 0; k < rank; k++)
        {
            outShape[k] = input.Shape[perm[k]];
        }

        int[] strides = ShapeMath.Strides(input.Shape);
        var expected = Gather(input, outShape, index =>
        {
            int offset = 0;
            for (int k = 0; k < rank; k++)
            {
                offset += index[k] * strides[perm[k]];
            }

            return offset;
        });
        NodeAttribute attribute = Ints("perm", [.. perm.Select(p => (long)p)]);
        var actual = Run("Transpose", 13, [input], threads, 1, attribute)[0];
        AssertSame(expected, actual, $"{input} perm [{string.Join(",", perm)}] threads {threads}");
    }

    private static IEnumerable<int[]> Permutations(int rank)
    {
        if (rank == 0)
        {
            yield return [];
            yield break;
        }

        foreach (int[] rest in Permutations(rank - 1))
        {
            for (int at = 0; at < rank; at++)
            {
                var perm = new int[rank];
                for (int k = 0, r = 0; k < rank; k++)
                {
                    perm[k] = k == at ? rank - 1 : rest[r++];
                }

                yield return perm;
            }
        }
    }
}
