using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The scales and zero points of QuantizeLinear / DequantizeLinear, resolved against the data's shape: one pair for
/// the whole tensor, or one per index of <see cref="Axis"/> (per-axis quantization, opset 13 on). The data is then
/// walked as [Outer, Channels, Inner] with the parameters of each channel.
/// </summary>
internal sealed class QuantAxis
{
    private QuantAxis(float[] scales, int[] zeroPoints, int outer, int channels, int inner)
    {
        Scales = scales;
        ZeroPoints = zeroPoints;
        Outer = outer;
        Channels = channels;
        Inner = inner;
    }

    public float[] Scales { get; }

    public int[] ZeroPoints { get; }

    public int Outer { get; }

    public int Channels { get; }

    public int Inner { get; }

    public static QuantAxis Resolve(string opType, int[] shape, Tensor scale, Tensor? zeroPoint, long axisAttribute)
    {
        if (zeroPoint is not null && zeroPoint.Length != scale.Length)
        {
            throw new KernelException($"{opType} has {scale.Length} scales but {zeroPoint.Length} zero points");
        }

        float[] scales = QuantValues.Floats(scale, opType + " scale");
        int[] zeroPoints = zeroPoint is null ? new int[scales.Length] : QuantValues.Ints(zeroPoint, opType + " zero point");
        int length = ShapeMath.ElementCount(shape);
        if (scale.Rank == 0 || (scale.Rank == 1 && scale.Length == 1 && shape.Length == 0))
        {
            return new QuantAxis(scales, zeroPoints, 1, 1, length);
        }

        if (scale.Rank != 1)
        {
            throw new KernelException($"{opType} scale must be a scalar or 1-D, got {ShapeMath.Format(scale.Shape)}");
        }

        if (shape.Length == 0)
        {
            throw new KernelException($"{opType} has per-axis scales for a scalar input");
        }

        int axis = (int)(axisAttribute < 0 ? axisAttribute + shape.Length : axisAttribute);
        if (axis < 0 || axis >= shape.Length)
        {
            throw new KernelException($"{opType} axis {axisAttribute} is out of range for input {ShapeMath.Format(shape)}");
        }

        if (scale.Length != shape[axis])
        {
            // A 1-element scale is per-tensor whatever the axis says (exporters write [1] for scalars).
            if (scale.Length == 1)
            {
                return new QuantAxis(scales, zeroPoints, 1, 1, length);
            }

            throw new KernelException($"{opType} has {scale.Length} scales for axis {axis} of size {shape[axis]}");
        }

        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return new QuantAxis(scales, zeroPoints, outer, shape[axis], inner);
    }
}
