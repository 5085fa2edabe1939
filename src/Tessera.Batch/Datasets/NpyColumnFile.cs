using Microsoft.Win32.SafeHandles;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Batch.Datasets;

/// <summary>
/// One .npy file of a dataset, read a range of records at a time into a buffer that lives as long as the slice that
/// holds it, so only a few batches are in memory and a file larger than memory works. The records are read with
/// pread into reused buffers rather than mapped: a fresh mapping per batch costs a page fault per page and a TLB
/// shoot-down at unmap, several times the CPU of the read and its copy.
/// </summary>
internal sealed unsafe class NpyColumnFile : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly ReadBufferPool _buffers = new();

    private NpyColumnFile(string path, NpyHeader header, long length, SafeFileHandle file)
    {
        Path = path;
        Header = header;
        Length = length;
        _file = file;
    }

    public string Path { get; }

    public NpyHeader Header { get; }

    /// <summary>The file's size in bytes.</summary>
    public long Length { get; }

    public long Records => Header.Shape[0];

    public int[] RecordShape => Header.Shape[1..];

    public long RecordBytes => RecordShape.Aggregate(1L, (n, d) => n * d) * DataTypes.SizeOf(Header.DataType);

    /// <summary>Opens and checks <paramref name="path"/>: a readable header, a record axis, and all the data it declares.</summary>
    public static NpyColumnFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        try
        {
            NpyHeader header;
            try
            {
                header = NpyFormat.ReadHeader(stream);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or NotSupportedException)
            {
                throw new BatchException($"cannot read '{path}': {e.Message}");
            }

            if (header.Shape.Length == 0) throw new BatchException($"'{path}' holds one value, not records (axis 0 is the record axis)");
            long have = stream.Length - header.DataOffset;
            if (have < header.DataBytes)
            {
                throw new BatchException($"'{path}' is truncated: its header declares {header.Shape[0]} records ({header.DataBytes} bytes) but it holds {Math.Max(have, 0)} bytes of data");
            }

            return new NpyColumnFile(path, header, stream.Length, stream.SafeFileHandle);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Records [first, first + count) in a buffer, which <paramref name="owned"/> gets to give back: read now, or when
    /// <paramref name="deferred"/> only when they are needed (<see cref="DeferredRecords"/>).
    /// </summary>
    public Tensor Read(long first, int count, List<IDisposable> owned, bool deferred = false)
    {
        int[] shape = [count, .. RecordShape];
        long bytes = count * RecordBytes;
        if (bytes == 0) return Tensor.AllocateZeroed(Header.DataType, shape);
        var records = new DeferredRecords(_file, Path, Header.DataOffset + (first * RecordBytes), _buffers.Rent(bytes), bytes);
        owned.Add(records);
        if (!deferred) records.Materialize();
        return Tensor.FromPointer(Header.DataType, shape, records.Pointer, records);
    }

    public void Dispose()
    {
        _buffers.Dispose();
        _file.Dispose();
    }
}
