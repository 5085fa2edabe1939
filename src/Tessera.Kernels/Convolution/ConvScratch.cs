using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Per-thread convolution buffers kept between runs so steady-state convolutions allocate nothing. Slot 0 holds
/// im2col/col2im/padded planes (and the planar layout a channel block is interleaved from), slots 1, 2 and 3 the direct
/// convolutions' input layouts, output tile matrices and packed B panels, slots 4, 5 and 6 the NCHW copies of a
/// channel-blocked X, sum and Y for a kernel that cannot take them (<see cref="ConvKernel"/>).
/// </summary>
internal static unsafe class ConvScratch
{
    public const int Slots = 7;

    [ThreadStatic]
    private static byte[]?[]? t_buffers;

    public static float* Get(long floats) => Get(0, floats);

    public static float* Get(int slot, long floats)
    {
        long bytes = floats * sizeof(float) + 64;
        if (bytes > int.MaxValue)
        {
            throw new NotSupportedException("convolution scratch buffer larger than 2 GiB");
        }

        var buffers = t_buffers ??= new byte[]?[Slots];
        var buffer = buffers[slot];
        if (buffer is null || buffer.Length < bytes)
        {
            buffers[slot] = buffer = GC.AllocateUninitializedArray<byte>((int)bytes, pinned: true);
        }

        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)(((nuint)start + 63) & ~(nuint)63);
    }
}
