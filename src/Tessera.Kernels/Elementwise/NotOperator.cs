using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Logical not of a bool tensor (bytes holding 0 or 1).</summary>
internal readonly struct NotOperator : IUnarySpanOperator<byte, byte>
{
    public static byte Invoke(byte x) => (byte)(x ^ 1);

    public void Invoke(ReadOnlySpan<byte> x, Span<byte> destination) => TensorPrimitives.Xor(x, (byte)1, destination);
}
