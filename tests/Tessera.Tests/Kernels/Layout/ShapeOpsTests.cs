using Tessera.Kernels.Core;
using Tessera.Tensors;
using static Tessera.Tests.Kernels.Layout.LayoutHarness;

namespace Tessera.Tests.Kernels.Layout;

/// <summary>Reshape-like views and the small shape/constant operators, including opset differences.</summary>
public sealed class ShapeOpsTests
{
    [Fact]
    public void ReshapeIsAViewAndHonoursZeroAndMinusOne()
    {
        var input = Tensor.FromArray(new float[24], 2, 3, 4);
        var output = Run("Reshape", 13, [input, Longs(0, -1)], 1)[0]!;
        Assert.Equal([2, 12], output.Shape);
        unsafe
        {
            Assert.True(output.Pointer == input.Pointer);
        }

        Assert.Equal([24, 1], Run("Reshape", 1, [input], 1, 1, Ints("shape", -1, 1))[0]!.Shape);
        var empty = Tensor.FromArray(new float[0], 0, 3);
        Assert.Equal([3, 0], Run("Reshape", 14, [empty, Longs(3, 0)], 1, 1, Int("allowzero", 1))[0]!.Shape);
        Assert.Throws<KernelException>(() => Run("Reshape", 13, [input, Longs(-1, -1)], 1));
        Assert.Throws<KernelException>(() => Run("Reshape", 13, [input, Longs(5, -1)], 1));
    }

    [Fact]
    public void StringsReshapeAndTranspose()
    {
        var input = Tensor.FromStrings(["a", "b", "c", "d", "e", "f"], 2, 3);
        var t = Run("Transpose", 13, [input], 1)[0]!;
        Assert.Equal(["a", "d", "b", "e", "c", "f"], t.Strings);
        var r = Run("Reshape", 13, [t, Longs(6)], 1)[0]!;
        Assert.Equal([6], r.Shape);
        var c = Run("Concat", 13, [input, input], 1, 1, Int("axis", 1))[0]!;
        Assert.Equal(["a", "b", "c", "a", "b", "c", "d", "e", "f", "d", "e", "f"], c.Strings);
    }

    [Fact]
    public void SqueezeAndUnsqueezeAcrossOpsets()
    {
        var input = Tensor.FromArray(new int[6], 1, 3, 1, 2);
        Assert.Equal([3, 2], Run("Squeeze", 13, [input], 1)[0]!.Shape);
        Assert.Equal([1, 3, 2], Run("Squeeze", 13, [input, Longs(-2)], 1)[0]!.Shape);
        Assert.Equal([3, 1, 2], Run("Squeeze", 11, [input], 1, 1, Ints("axes", 0))[0]!.Shape);
        Assert.Throws<KernelException>(() => Run("Squeeze", 13, [input, Longs(1)], 1));
        Assert.Equal([1, 1, 3, 1, 2, 1], Run("Unsqueeze", 13, [input, Longs(-1, 1)], 1)[0]!.Shape);
        Assert.Equal([1, 1, 3, 1, 2], Run("Unsqueeze", 11, [input], 1, 1, Ints("axes", 0))[0]!.Shape);
        Assert.Throws<KernelException>(() => Run("Unsqueeze", 13, [input, Longs(0, -6)], 1));
    }

    [Fact]
    public void FlattenShapeAndSize()
    {
        var input = Tensor.FromArray(new byte[24], 2, 3, 4);
        Assert.Equal([6, 4], Run("Flatten", 13, [input], 1, 1, Int("axis", -1))[0]!.Shape);
        Assert.Equal([1, 24], Run("Flatten", 13, [input], 1, 1, Int("axis", 0))[0]!.Shape);
        Assert.Equal([24, 1], Run("Flatten", 13, [input], 1, 1, Int("axis", 3))[0]!.Shape);
        Assert.Equal([3L, 4L], Run("Shape", 15, [input], 1, 1, Int("start", -2))[0]!.ToArray<long>());
        Assert.Equal([2L, 3L, 4L], Run("Shape", 13, [input], 1, 1, Int("start", 1))[0]!.ToArray<long>());
        Assert.Empty(Run("Shape", 15, [input], 1, 1, Int("start", 2), Int("end", 1))[0]!.ToArray<long>());
        Assert.Equal([24L], Run("Size", 13, [input], 1)[0]!.ToArray<long>());
    }

    [Fact]
    public void ConstantOfShapeAndRange()
    {
        var zeros = Run("ConstantOfShape", 9, [Longs(2, 3)], 1)[0]!;
        Assert.Equal(DataType.Float32, zeros.DataType);
        Assert.Equal(new float[6], zeros.ToArray<float>());
        var scalar = Run("ConstantOfShape", 9, [Longs()], 1, 1, new Tessera.Onnx.Graph.NodeAttribute
        {
            Name = "value", Kind = Tessera.Onnx.Graph.AttributeKind.Tensor, Tensor = Tensor.FromArray([7L], 1),
        })[0]!;
        Assert.Empty(scalar.Shape);
        Assert.Equal([7L], scalar.ToArray<long>());

        Assert.Equal([10L, 7L, 4L], Run("Range", 11, [Tensor.Scalar(10L), Tensor.Scalar(1L), Tensor.Scalar(-3L)], 1)[0]!.ToArray<long>());
        Assert.Empty(Run("Range", 11, [Tensor.Scalar(1), Tensor.Scalar(10), Tensor.Scalar(-1)], 1)[0]!.ToArray<int>());
        Assert.Equal([0.5, 1.0, 1.5], Run("Range", 11, [Tensor.Scalar(0.5), Tensor.Scalar(1.75), Tensor.Scalar(0.5)], 1)[0]!.ToArray<double>());
        Assert.Throws<KernelException>(() => Run("Range", 11, [Tensor.Scalar(0), Tensor.Scalar(1), Tensor.Scalar(0)], 1));
    }

    [Fact]
    public void ConstantFromScalarAttributes()
    {
        var f = Run("Constant", 13, [], 1, 1, new Tessera.Onnx.Graph.NodeAttribute { Name = "value_floats", Kind = Tessera.Onnx.Graph.AttributeKind.Floats, Floats = [1f, 2f] })[0]!;
        Assert.Equal([2], f.Shape);
        var i = Run("Constant", 13, [], 1, 1, Int("value_int", 5))[0]!;
        Assert.Empty(i.Shape);
        Assert.Equal([5L], i.ToArray<long>());
        Assert.Throws<KernelException>(() => Run("Constant", 13, [], 1));
    }
}
