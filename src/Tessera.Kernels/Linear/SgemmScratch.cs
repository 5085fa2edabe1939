using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Per-thread packing buffers, kept between calls so steady-state GEMMs allocate nothing. Slot 0 holds a thread's
/// packed A block, slot 1 the packed B block a calling thread shares with its helpers for the duration of a call, slot 2 the
/// gathered operand blocks of the thin (matrix-vector shaped) paths.
/// </summary>
internal static unsafe class SgemmScratch
{
    private const int Alignment = 64;

    [ThreadStatic]
    private static byte[]?[]? t_buffers;

    public static float* Get(int slot, long floats)
    {
        var buffers = t_buffers ??= new byte[]?[3];
        long bytes = floats * sizeof(float) + Alignment;
        var buffer = buffers[slot];
        if (buffer is null || buffer.Length < bytes)
        {
            if (bytes > int.MaxValue)
            {
                throw new NotSupportedException("SGEMM packing buffer larger than 2 GiB");
            }

            // Grow geometrically so shapes that creep upwards do not reallocate every call.
            long size = Math.Min(int.MaxValue, Math.Max(bytes, (buffer?.Length ?? 0) * 3L / 2));
            buffers[slot] = buffer = GC.AllocateUninitializedArray<byte>((int)size, pinned: true);
        }

        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)(((nuint)start + Alignment - 1) & ~(nuint)(Alignment - 1));
    }
}
