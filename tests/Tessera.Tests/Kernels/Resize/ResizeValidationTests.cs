using Tessera.Kernels.Core;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Indexing.IndexingKernelHarness;

namespace Tessera.Tests.Kernels.Resize;

public class ResizeValidationTests
{
    private static readonly Tensor Input = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 1, 1, 2, 2);

    [Fact]
    public void RejectsBothOrNeitherOfScalesAndSizes()
    {
        var scales = Tensor.FromArray(new float[] { 1, 1, 2, 2 }, 4);
        var sizes = Tensor.FromArray(new long[] { 1, 1, 4, 4 }, 4);
        Assert.Throws<KernelException>(() => Run("Resize", 13, [Input, null, scales, sizes]));
        Assert.Throws<KernelException>(() => Run("Resize", 13, [Input, null, null, null]));
    }

    [Fact]
    public void RejectsScalesOfTheWrongLengthOrSign()
    {
        Assert.Throws<KernelException>(() => Run("Resize", 13, [Input, null, Tensor.FromArray(new float[] { 2, 2 }, 2)]));
        Assert.Throws<KernelException>(() => Run("Resize", 13, [Input, null, Tensor.FromArray(new float[] { 1, 1, -2, 2 }, 4)]));
    }

    [Fact]
    public void Opset10AndUpsampleUseAsymmetricCoordinates()
    {
        var scales = Tensor.FromArray(new float[] { 1, 1, 2, 2 }, 4);
        var resize10 = Run("Resize", 10, [Input, scales], 1, String("mode", "linear"));
        Assert.Equal([1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4], resize10.ToArray<float>());
        var upsample = Run("Upsample", 7, [Input], 1, String("mode", "nearest"), new Tessera.Onnx.Graph.NodeAttribute
        {
            Name = "scales", Kind = Tessera.Onnx.Graph.AttributeKind.Floats, Floats = [1, 1, 2, 2],
        });
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], upsample.ToArray<float>());
    }

    [Fact]
    public void NearestMovesIntegerAndHalfElements()
    {
        var sizes = Tensor.FromArray(new long[] { 3 }, 1);
        var longs = Run("Resize", 13, [Tensor.FromArray(new long[] { 10, 20 }, 2), null, null, sizes], 1, String("coordinate_transformation_mode", "asymmetric"));
        Assert.Equal([10L, 20, 20], longs.ToArray<long>());
        var halves = Run("Resize", 13, [Tensor.FromArray(new Half[] { (Half)1, (Half)2 }, 2), null, null, sizes], 1, String("coordinate_transformation_mode", "asymmetric"));
        Assert.Equal([(Half)1, (Half)2, (Half)2], halves.ToArray<Half>());
    }
}
