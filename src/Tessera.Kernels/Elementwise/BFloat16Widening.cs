using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// BFloat16 is storage-only in Tessera, so kernels compute it in float: widen the inputs, run the float path,
/// round the result back to nearest even.
/// </summary>
internal static class BFloat16Widening
{
    public static Tensor ToFloat(Tensor tensor)
    {
        var result = Tensor.Allocate(DataType.Float32, tensor.Shape);
        var source = tensor.Span<BFloat16>();
        var destination = result.Span<float>();
        for (int i = 0; i < source.Length; i++) destination[i] = source[i].ToSingle();
        return result;
    }

    public static void Narrow(Tensor source, Tensor destination)
    {
        var s = source.Span<float>();
        var d = destination.Span<BFloat16>();
        for (int i = 0; i < s.Length; i++) d[i] = BFloat16.FromSingle(s[i]);
    }

    public static Tensor? ToFloatIfBFloat16(Tensor? tensor) =>
        tensor is { DataType: DataType.BFloat16 } ? ToFloat(tensor) : tensor;
}
