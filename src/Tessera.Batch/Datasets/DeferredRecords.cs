using Microsoft.Win32.SafeHandles;
using Tessera.Cluster.Transport;

namespace Tessera.Batch.Datasets;

/// <summary>
/// A range of records of an .npy file not read yet: a sender that puts them in shared memory has them read (pread)
/// straight into it, so the coordinator copies each record once, as one process reading it does; anything else
/// that needs them reads them into the buffer they were given. Disposing gives the buffer back to its pool.
/// </summary>
internal sealed unsafe class DeferredRecords(SafeFileHandle file, string path, long offset, ReadBufferPool.ReadBuffer buffer, long bytes)
    : DeferredStorage(buffer.Pointer, bytes), IDisposable
{
    protected override void Write(long at, Span<byte> destination)
    {
        for (int done = 0; done < destination.Length;)
        {
            int read = RandomAccess.Read(file, destination[done..], offset + at + done);
            if (read == 0) throw new BatchException($"'{path}' ended at byte {offset + at + done} while its records were read: was it truncated while the job ran?");
            done += read;
        }
    }

    public void Dispose() => buffer.Dispose();
}
