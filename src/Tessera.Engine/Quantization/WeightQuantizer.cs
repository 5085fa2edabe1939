using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>
/// Symmetric int8 weights: scale = max|w| / 127 and zero point 0, per tensor or per index of one axis. The range is
/// [-127, 127] (not -128) so that negating a weight never saturates, as ONNX Runtime's quantizer also does. With
/// reduce_range (<see cref="ReducedLimit"/>) it is [-64, 64] and the scale max|w| / 64, as ONNX Runtime's symmetric
/// int8 reduce_range: 7-bit weights, which the integer GEMM multiplies with vpmaddubsw on machines without VNNI.
/// </summary>
internal static class WeightQuantizer
{
    public const int FullLimit = 127;

    public const int ReducedLimit = 64;

    public static (Tensor Values, float[] Scales) Quantize(Tensor weight, int axis, int limit = FullLimit)
    {
        var w = weight.Span<float>();
        int channels = axis < 0 ? 1 : weight.Shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < weight.Rank && axis >= 0; d++) inner *= weight.Shape[d];
        if (axis < 0) inner = weight.Length;
        var scales = new float[channels];
        for (int i = 0; i < w.Length; i++)
        {
            int c = (i / inner) % channels;
            scales[c] = Math.Max(scales[c], Math.Abs(w[i]));
        }

        for (int c = 0; c < channels; c++) scales[c] = scales[c] == 0 ? 1f : scales[c] / limit;
        var q = Tensor.Allocate(DataType.Int8, weight.Shape);
        var values = q.Span<sbyte>();
        for (int i = 0; i < w.Length; i++)
        {
            values[i] = (sbyte)Math.Clamp(MathF.Round(w[i] / scales[(i / inner) % channels]), -limit, limit);
        }

        return (q, scales);
    }
}
