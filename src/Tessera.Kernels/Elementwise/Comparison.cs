using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Adapts an <see cref="IComparisonOperator"/> to the drivers: compares a vector at a time and expands the
/// lane mask bits to bool bytes through a table, eight lanes per lookup.
/// </summary>
internal readonly struct Comparison<T, TOp>(TOp op) : IBinarySpanOperator<T, T, byte>
    where T : unmanaged, INumber<T>
    where TOp : struct, IComparisonOperator
{
    private readonly TOp _op = op;

    public void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<byte> destination)
    {
        int i = Vectorized(ref MemoryMarshal.GetReference(x), 1, ref MemoryMarshal.GetReference(y), 1, destination);
        for (; i < destination.Length; i++) destination[i] = _op.Invoke(x[i], y[i]) ? (byte)1 : (byte)0;
    }

    public void Invoke(ReadOnlySpan<T> x, T y, Span<byte> destination)
    {
        int i = Vectorized(ref MemoryMarshal.GetReference(x), 1, ref y, 0, destination);
        for (; i < destination.Length; i++) destination[i] = _op.Invoke(x[i], y) ? (byte)1 : (byte)0;
    }

    public void Invoke(T x, ReadOnlySpan<T> y, Span<byte> destination)
    {
        int i = Vectorized(ref x, 0, ref MemoryMarshal.GetReference(y), 1, destination);
        for (; i < destination.Length; i++) destination[i] = _op.Invoke(x, y[i]) ? (byte)1 : (byte)0;
    }

    /// <summary>Handles whole groups of eight (or more) lanes; a step of 0 broadcasts that operand. Returns elements done.</summary>
    private int Vectorized(ref T x, int xStep, ref T y, int yStep, Span<byte> destination)
    {
        if (!Vector256.IsHardwareAccelerated || !Vector256<T>.IsSupported)
        {
            return 0;
        }

        int count = Vector256<T>.Count;
        int group = Math.Max(count, 8);
        int n = destination.Length;
        var xs = xStep == 0 ? Vector256.Create(x) : default;
        var ys = yStep == 0 ? Vector256.Create(y) : default;
        ref byte d = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        for (; i <= n - group; i += group)
        {
            ulong bits = 0;
            for (int k = 0; k < group; k += count)
            {
                var vx = xStep == 0 ? xs : Vector256.LoadUnsafe(ref x, (nuint)(i + k));
                var vy = yStep == 0 ? ys : Vector256.LoadUnsafe(ref y, (nuint)(i + k));
                bits |= (ulong)_op.Invoke(vx, vy).ExtractMostSignificantBits() << k;
            }

            for (int k = 0; k < group; k += 8)
            {
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, i + k), ComparisonTable.Bytes[(int)((bits >> k) & 0xFF)]);
            }
        }

        return i;
    }
}
