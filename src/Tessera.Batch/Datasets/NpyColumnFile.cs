using System.IO.MemoryMappedFiles;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Batch.Datasets;

/// <summary>
/// One .npy file of a dataset, memory-mapped: a range of records is a tensor over a view of the file that lives as
/// long as the slice that holds it, so the records pass through memory without being read into the heap and a
/// file larger than memory works.
/// </summary>
internal sealed unsafe class NpyColumnFile : IDisposable
{
    private readonly MemoryMappedFile? _map;

    private NpyColumnFile(string path, NpyHeader header, long length, MemoryMappedFile? map)
    {
        Path = path;
        Header = header;
        Length = length;
        _map = map;
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
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
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

            long length = stream.Length;
            var map = header.DataBytes == 0 ? null : MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            if (map is null) stream.Dispose();
            return new NpyColumnFile(path, header, length, map);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Records [first, first + count) as a tensor over a mapped view, which <paramref name="owned"/> gets to unmap.</summary>
    public Tensor Read(long first, int count, List<IDisposable> owned)
    {
        int[] shape = [count, .. RecordShape];
        long bytes = count * RecordBytes;
        if (bytes == 0 || _map is null) return Tensor.AllocateZeroed(Header.DataType, shape);
        var view = _map.CreateViewAccessor(Header.DataOffset + first * RecordBytes, bytes, MemoryMappedFileAccess.Read);
        var mapped = new MappedView(view);
        owned.Add(mapped);
        return Tensor.FromPointer(Header.DataType, shape, mapped.Pointer, mapped);
    }

    public void Dispose() => _map?.Dispose();

    /// <summary>A view's pointer, held until the slice that uses it is disposed (which unmaps it, so its pages leave the process).</summary>
    private sealed class MappedView : IDisposable
    {
        private readonly MemoryMappedViewAccessor _view;
        private int _released;

        public MappedView(MemoryMappedViewAccessor view)
        {
            _view = view;
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            Pointer = start + view.PointerOffset;
        }

        public byte* Pointer { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
    }
}
