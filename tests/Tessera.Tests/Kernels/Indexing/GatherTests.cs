using Tessera.Kernels.Core;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Indexing.IndexingKernelHarness;

namespace Tessera.Tests.Kernels.Indexing;

public class GatherTests
{
    public static IEnumerable<object[]> Shapes()
    {
        int[][] shapes = [[7], [5, 3], [3, 17, 9], [2, 3, 4, 5], [1, 300, 67], [130, 257]];
        foreach (var shape in shapes)
        {
            for (int axis = -shape.Length; axis < shape.Length; axis++)
            {
                foreach (int degree in (int[])[1, 2])
                {
                    yield return [shape, axis, degree];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesScalarReferenceForEveryElementSize(int[] shape, int axis, int degree)
    {
        var random = new Random(shape.Sum() * 31 + axis);
        int a = axis < 0 ? axis + shape.Length : axis;
        int dim = shape[a];
        int[] indexShape = [3, 5];
        var indices = new long[15];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = random.Next(-dim, dim);
        }

        int count = ShapeMath.ElementCount(shape);
        var floats = Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();
        var longs = Enumerable.Range(0, count).Select(_ => random.NextInt64()).ToArray();
        var bytes = Enumerable.Range(0, count).Select(_ => (byte)random.Next(256)).ToArray();
        var halves = Enumerable.Range(0, count).Select(_ => (Half)random.NextDouble()).ToArray();
        var int32Indices = Tensor.FromArray(indices.Select(i => (int)i).ToArray(), indexShape);
        var int64Indices = Tensor.FromArray(indices, indexShape);

        Check(floats, shape, axis, indices, int64Indices, degree);
        Check(longs, shape, axis, indices, int32Indices, degree);
        Check(bytes, shape, axis, indices, int64Indices, degree);
        Check(halves, shape, axis, indices, int32Indices, degree);
    }

    private static void Check<T>(T[] data, int[] shape, int attributeAxis, long[] indices, Tensor indexTensor, int degree) where T : unmanaged
    {
        var output = Run("Gather", 13, [Tensor.FromArray(data, shape), indexTensor], degree, Int("axis", attributeAxis));
        int axis = attributeAxis < 0 ? attributeAxis + shape.Length : attributeAxis;
        int outer = ShapeMath.Product(shape, 0, axis);
        int inner = ShapeMath.Product(shape, axis + 1, shape.Length);
        int dim = shape[axis];
        var expected = new T[outer * indices.Length * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < indices.Length; j++)
            {
                long idx = indices[j] < 0 ? indices[j] + dim : indices[j];
                for (int i = 0; i < inner; i++)
                {
                    expected[(o * indices.Length + j) * inner + i] = data[(o * dim + idx) * inner + i];
                }
            }
        }

        int[] expectedShape = [.. shape[..axis], 3, 5, .. shape[(axis + 1)..]];
        Assert.Equal(expectedShape, output.Shape);
        Assert.Equal(expected, output.ToArray<T>());
    }

    [Fact]
    public void LargeGatherSplitsOverThreadsLikeOneThread()
    {
        var random = new Random(5);
        var data = Enumerable.Range(0, 64 * 1000).Select(_ => random.NextSingle()).ToArray();
        var idx = Enumerable.Range(0, 777).Select(_ => (long)random.Next(-1000, 1000)).ToArray();
        var input = Tensor.FromArray(data, 64, 1000);
        var one = Run("Gather", 13, [input, Tensor.FromArray(idx, 777)], 1, Int("axis", 1));
        var two = Run("Gather", 13, [input, Tensor.FromArray(idx, 777)], 2, Int("axis", 1));
        Assert.Equal(one.ToArray<float>(), two.ToArray<float>());
    }

    [Fact]
    public void GathersStrings()
    {
        var data = Tensor.FromStrings(["a", "b", "c", "d"], 2, 2);
        var output = Run("Gather", 13, [data, Tensor.FromArray(new long[] { 1, 0 }, 2)], 1, Int("axis", 1));
        Assert.Equal(["b", "a", "d", "c"], output.Strings);
    }

    [Fact]
    public void OutOfRangeIndexIsAKernelErrorNamingTheIndex()
    {
        var data = Tensor.FromArray(new float[6], 2, 3);
        var e = Assert.Throws<KernelException>(() => Run("Gather", 13, [data, Tensor.FromArray(new long[] { 0, 3 }, 2)], 1, Int("axis", 1)));
        Assert.Contains("3", e.Message);
        e = Assert.Throws<KernelException>(() => Run("GatherElements", 13, [data, Tensor.FromArray(new long[] { 0, -5, 0, 0, 0, 0 }, 2, 3)], 1, Int("axis", 0)));
        Assert.Contains("-5", e.Message);
        e = Assert.Throws<KernelException>(() => Run("ScatterND", 16, [data, Tensor.FromArray(new long[] { 2 }, 1, 1), Tensor.FromArray(new float[3], 1, 3)]));
        Assert.Contains("2", e.Message);
    }
}
