using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// DynamicQuantizeLinear (opset 11): quantizes float32 x to uint8 with the scale and zero point that map
/// [min(x, 0), max(x, 0)] onto [0, 255], and returns all three.
/// </summary>
internal sealed unsafe class DynamicQuantizeLinearKernel : IKernel
{
    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "x");
        if (x.DataType != DataType.Float32)
        {
            throw new KernelException($"DynamicQuantizeLinear takes float32, got {DataTypes.Name(x.DataType)}");
        }

        float* px = (float*)x.Pointer;
        var (scale, zeroPoint) = Parameters(px, x.Length, context.Parallel);
        var y = context.AllocateOutput(0, DataType.UInt8, x.Shape);
        context.AllocateOutput(1, DataType.Float32, []).Span<float>()[0] = scale;
        context.AllocateOutput(2, DataType.UInt8, []).Span<byte>()[0] = (byte)zeroPoint;
        byte* py = y.Pointer;
        context.Parallel.ForRange(y.Length, 1 << 14, (start, end) => Quantizer.Quantize(px + start, py + start, end - start, scale, zeroPoint, 0, 255));
        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }

    /// <summary>The scale and zero point ONNX defines for <paramref name="length"/> values; a range of zero width gets scale 1, as ONNX Runtime does.</summary>
    public static (float Scale, int ZeroPoint) Parameters(float* values, int length, ParallelRunner parallel)
    {
        if (length == 0) return FromRange(0, 0);
        var (least, most) = FloatRange.Of(values, length, parallel);
        return FromRange(least, most);
    }

    /// <summary>The same from the values' smallest and largest, found elsewhere (by the operator that made them).</summary>
    public static (float Scale, int ZeroPoint) FromRange(float least, float most)
    {
        float min = Math.Min(0, least);
        float max = Math.Max(0, most);
        float scale = max == min ? 1f : (max - min) / 255f;
        float zero = MathF.Round(Math.Clamp(0 - (min / scale), 0f, 255f));
        return (scale, (int)zero);
    }
}
