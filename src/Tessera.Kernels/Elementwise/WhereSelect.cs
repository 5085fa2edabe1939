using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// The vectorized inner run of Where for 4-byte elements (float, int32, the attention-mask case): eight condition
/// bytes are widened into a lane mask and blend x and y, either of which may be a repeated value.
/// </summary>
internal static class WhereSelect
{
    public static void Run(ReadOnlySpan<byte> condition, ReadOnlySpan<uint> x, int xStep, ReadOnlySpan<uint> y, int yStep, Span<uint> destination)
    {
        int n = destination.Length;
        ref byte c = ref MemoryMarshal.GetReference(condition);
        ref uint rx = ref MemoryMarshal.GetReference(x);
        ref uint ry = ref MemoryMarshal.GetReference(y);
        ref uint rd = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var xs = Vector256.Create(rx);
            var ys = Vector256.Create(ry);
            for (; i <= n - 8; i += 8)
            {
                var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref c, i))).AsByte();
                var shorts = Vector128.WidenLower(bytes);
                var lanes = Vector256.Create(Vector128.WidenLower(shorts), Vector128.WidenUpper(shorts));
                var mask = ~Vector256.Equals(lanes, Vector256<uint>.Zero);
                var vx = xStep == 0 ? xs : Vector256.LoadUnsafe(ref rx, (nuint)i);
                var vy = yStep == 0 ? ys : Vector256.LoadUnsafe(ref ry, (nuint)i);
                Vector256.ConditionalSelect(mask, vx, vy).StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref rd, i) = Unsafe.Add(ref c, i) != 0 ? Unsafe.Add(ref rx, i * xStep) : Unsafe.Add(ref ry, i * yStep);
        }
    }
}
