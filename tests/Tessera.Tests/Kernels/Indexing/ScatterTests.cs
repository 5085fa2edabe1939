using Tessera.Tensors;
using static Tessera.Tests.Kernels.Indexing.IndexingKernelHarness;

namespace Tessera.Tests.Kernels.Indexing;

public class ScatterTests
{
    [Theory]
    [InlineData("add", new long[] { 1, 24, 3, 4 })]
    [InlineData("mul", new long[] { 1, 700, 3, 4 })]
    [InlineData("max", new long[] { 1, 10, 3, 4 })]
    [InlineData("min", new long[] { 1, 2, 3, 4 })]
    [InlineData("none", new long[] { 1, 10, 3, 4 })]
    public void ScatterElementsReducesDuplicatesInOrder(string reduction, long[] expected)
    {
        var data = Tensor.FromArray(new long[] { 1, 2, 3, 4 }, 4);
        var indices = Tensor.FromArray(new int[] { 1, -3, 1 }, 3);
        var updates = Tensor.FromArray(new long[] { 5, 7, 10 }, 3);
        var output = Run("ScatterElements", 18, [data, indices, updates], 1, String("reduction", reduction));
        Assert.Equal(expected, output.ToArray<long>());
    }

    [Fact]
    public void ScatterNDWithMaxReductionOnUInt8()
    {
        var data = Tensor.FromArray(new byte[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var indices = Tensor.FromArray(new long[] { 2, 0 }, 2, 1);
        var updates = Tensor.FromArray(new byte[] { 9, 0, 0, 9 }, 2, 2);
        var output = Run("ScatterND", 18, [data, indices, updates], 1, String("reduction", "max"));
        Assert.Equal([1, 9, 3, 4, 9, 6], output.ToArray<byte>());
    }

    [Fact]
    public void OneHotLeavesOutOfRangeIndicesOff()
    {
        var output = Run("OneHot", 11, [Tensor.FromArray(new float[] { 0, -1, 5 }, 3), Tensor.Scalar(3L), Tensor.FromArray(new int[] { 2, 8 }, 2)]);
        Assert.Equal([3, 3], output.Shape);
        Assert.Equal([8, 2, 2, 2, 2, 8, 2, 2, 2], output.ToArray<int>());
    }
}
