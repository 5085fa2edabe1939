using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Produces an output that is an affine view of an input: when the view turns out to be a contiguous run of the
/// input's storage it is returned without copying (tensors are immutable once computed); otherwise it is copied.
/// </summary>
internal static unsafe class ViewOrCopy
{
    /// <param name="outputShape">The output's shape.</param>
    /// <param name="copyShape">A shape with the same row-major layout as <paramref name="outputShape"/> over which the view is affine.</param>
    /// <param name="copyStrides">Source element strides per axis of <paramref name="copyShape"/>.</param>
    public static void Produce(KernelContext context, int outputIndex, Tensor input, int offset, int[] outputShape,
        ReadOnlySpan<int> copyShape, ReadOnlySpan<int> copyStrides)
    {
        if (!StridedCopy.Simplify(copyShape, copyStrides, out int[] dims, out int[] steps))
        {
            context.AllocateOutput(outputIndex, input.DataType, outputShape);
            return;
        }

        if (StridedCopy.IsContiguous(dims, steps))
        {
            if (offset == 0 && ShapeMath.ElementCount(outputShape) == input.Length)
            {
                context.SetOutput(outputIndex, input.Reshape(outputShape));
                return;
            }

            if (input.DataType != DataType.String)
            {
                byte* start = input.Pointer + ((long)offset * input.ElementSize);
                context.SetOutput(outputIndex, Tensor.FromPointer(input.DataType, outputShape, start, input));
                return;
            }
        }

        var output = context.AllocateOutput(outputIndex, input.DataType, outputShape);
        StridedCopy.RunSimplified(input, offset, dims, steps, output, context.Parallel);
    }

    /// <summary>Same as <see cref="Produce(KernelContext, int, Tensor, int, int[], ReadOnlySpan{int}, ReadOnlySpan{int})"/> when the copy runs over the output's own shape.</summary>
    public static void Produce(KernelContext context, int outputIndex, Tensor input, int offset, int[] outputShape, ReadOnlySpan<int> strides) =>
        Produce(context, outputIndex, input, offset, outputShape, outputShape, strides);
}
