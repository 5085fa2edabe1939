using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Produces an output that is an affine view of an input: when the view turns out to be a contiguous run of the
/// input's storage it is returned without copying (tensors are immutable once computed); otherwise it is copied.
/// </summary>
internal static class ViewOrCopy
{
    /// <param name="outputShape">The output's shape.</param>
    /// <param name="copyShape">A shape with the same row-major layout as <paramref name="outputShape"/> over which the view is affine.</param>
    /// <param name="copyStrides">Source element strides per axis of <paramref name="copyShape"/>.</param>
    public static void Produce(KernelContext context, int outputIndex, Tensor input, int offset, ReadOnlySpan<int> outputShape,
        ReadOnlySpan<int> copyShape, ReadOnlySpan<int> copyStrides)
    {
        Span<int> dims = stackalloc int[copyShape.Length];
        Span<int> steps = stackalloc int[copyShape.Length];
        int n = StridedCopy.Simplify(copyShape, copyStrides, dims, steps);
        if (n < 0)
        {
            context.AllocateOutput(outputIndex, input.DataType, outputShape);
            return;
        }

        dims = dims[..n];
        steps = steps[..n];
        if (StridedCopy.IsContiguous(dims, steps)
            && (input.DataType != DataType.String || (offset == 0 && ShapeMath.ElementCount(outputShape) == input.Length)))
        {
            // The context reuses the previous computation's header when it describes the same view.
            context.SetOutputView(outputIndex, input, offset, outputShape);
            return;
        }

        var output = context.AllocateOutput(outputIndex, input.DataType, outputShape);
        StridedCopy.RunSimplified(input, offset, dims, steps, output, context.Parallel);
    }

    /// <summary>Same as <see cref="Produce(KernelContext, int, Tensor, int, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/> when the copy runs over the output's own shape.</summary>
    public static void Produce(KernelContext context, int outputIndex, Tensor input, int offset, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> strides) =>
        Produce(context, outputIndex, input, offset, outputShape, outputShape, strides);
}
