using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Convolution;

/// <summary>A per-thread im2col/col2im buffer kept between runs so steady-state convolutions allocate nothing.</summary>
internal static unsafe class ConvScratch
{
    [ThreadStatic]
    private static byte[]? t_buffer;

    public static float* Get(long floats)
    {
        long bytes = floats * sizeof(float) + 64;
        if (bytes > int.MaxValue)
        {
            throw new NotSupportedException("convolution scratch buffer larger than 2 GiB");
        }

        if (t_buffer is null || t_buffer.Length < bytes)
        {
            t_buffer = GC.AllocateUninitializedArray<byte>((int)bytes, pinned: true);
        }

        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_buffer));
        return (float*)(((nuint)start + 63) & ~(nuint)63);
    }
}
