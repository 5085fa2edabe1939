namespace Tessera.Tensors;

/// <summary>
/// Weighted sums of floating point tensors kept in float64, then rounded once to the tensors' own type: the mean of
/// ensemble outputs and the average of model parameters both need it, and one rounding is what keeps them exact.
/// </summary>
public static class Float64Accumulation
{
    /// <summary>Adds <paramref name="weight"/> × each element of <paramref name="tensor"/> (float32, float64, float16 or bfloat16) to <paramref name="acc"/>.</summary>
    public static void AddScaled(Tensor tensor, double weight, Span<double> acc)
    {
        switch (tensor.DataType)
        {
            case DataType.Float32:
                var f = tensor.Span<float>();
                for (int i = 0; i < acc.Length; i++) acc[i] += weight * f[i];
                break;
            case DataType.Float64:
                var d = tensor.Span<double>();
                for (int i = 0; i < acc.Length; i++) acc[i] += weight * d[i];
                break;
            case DataType.Float16:
                var h = tensor.Span<Half>();
                for (int i = 0; i < acc.Length; i++) acc[i] += weight * (double)h[i];
                break;
            case DataType.BFloat16:
                var b = tensor.Span<BFloat16>();
                for (int i = 0; i < acc.Length; i++) acc[i] += weight * b[i].ToSingle();
                break;
            default:
                throw new ArgumentException($"{tensor.DataType} is not a floating point type", nameof(tensor));
        }
    }

    /// <summary>Writes <paramref name="acc"/> into <paramref name="result"/>, each value rounded once to its type.</summary>
    public static void Store(ReadOnlySpan<double> acc, Tensor result)
    {
        switch (result.DataType)
        {
            case DataType.Float32:
                var f = result.Span<float>();
                for (int i = 0; i < acc.Length; i++) f[i] = (float)acc[i];
                break;
            case DataType.Float64:
                acc.CopyTo(result.Span<double>());
                break;
            case DataType.Float16:
                var h = result.Span<Half>();
                for (int i = 0; i < acc.Length; i++) h[i] = (Half)acc[i];
                break;
            case DataType.BFloat16:
                var b = result.Span<BFloat16>();
                for (int i = 0; i < acc.Length; i++) b[i] = BFloat16.FromDouble(acc[i]);
                break;
            default:
                throw new ArgumentException($"{result.DataType} is not a floating point type", nameof(result));
        }
    }
}
