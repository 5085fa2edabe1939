using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Logical and of bool tensors, as bytes holding 0 or 1.</summary>
internal readonly struct AndOperator : IBinarySpanOperator<byte, byte, byte>
{
    public static byte Invoke(byte x, byte y) => (byte)(x & y);

    public void Invoke(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination) => TensorPrimitives.BitwiseAnd(x, y, destination);

    public void Invoke(ReadOnlySpan<byte> x, byte y, Span<byte> destination) => TensorPrimitives.BitwiseAnd(x, y, destination);

    public void Invoke(byte x, ReadOnlySpan<byte> y, Span<byte> destination) => TensorPrimitives.BitwiseAnd(y, x, destination);
}
