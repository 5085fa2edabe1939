using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Tessera.Cluster.Native;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// One connection's shared mapping: a file in /dev/shm with a random 128-bit name and mode 0600, mapped by both
/// processes and unlinked as soon as the accepting side has it open, so that nothing is left behind when either dies
/// (the mapping itself goes with the last process that holds it). Its space is reserved when it is made, so a full
/// tmpfs refuses it then (the connection keeps TCP) instead of killing a process with SIGBUS on a later write.
/// Layout: the 16-byte cookie at 0 (the peer proves it opened the same file by reading it), each ring's control on
/// its own cache line at 64 (client → server) and 128 (server → client): the consumed position (u64), a wake-up
/// counter (i32, a futex), whether the writer waits on it (i32) and the read position (u64); each direction's <see cref="FrameRing"/> control
/// on two cache lines, the writer's at 192 (client → server) and 320 (server → client), the reader's at 256 and 384;
/// the frame rings' bytes from 4096 (client → server, then server → client), the tensor rings' after them.
/// </summary>
internal sealed unsafe partial class SharedSegment : IDisposable
{
    public const int HeaderBytes = 4096;
    public const int CookieBytes = 16;

    /// <summary>Where the tensor rings start: after the header and the two frame rings.</summary>
    public const long TensorRingsOffset = HeaderBytes + 2L * FrameRing.Capacity;
    private const string Folder = "/dev/shm";
    private const string Prefix = "tessera-";

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private string? _path;

    private SharedSegment(string name, string path, MemoryMappedFile file, MemoryMappedViewAccessor view, long toServerBytes, long toClientBytes)
    {
        Name = name;
        _path = path;
        _file = file;
        _view = view;
        ToServerBytes = toServerBytes;
        ToClientBytes = toClientBytes;
    }

    public string Name { get; }

    public long ToServerBytes { get; }

    public long ToClientBytes { get; }

    /// <summary>The client → server ring (written by the connecting side, read by the accepting side); one per side.</summary>
    public SharedRing NewToServerRing() => new(this, TensorRingsOffset, ToServerBytes, 64);

    /// <summary>The server → client ring; one per side.</summary>
    public SharedRing NewToClientRing() => new(this, TensorRingsOffset + ToServerBytes, ToClientBytes, 128);

    /// <summary>The client → server frames (after the shared-memory answer); one per side.</summary>
    public FrameRing NewToServerFrames() => new(this, HeaderBytes, 192, 256);

    /// <summary>The server → client frames; one per side.</summary>
    public FrameRing NewToClientFrames() => new(this, HeaderBytes + FrameRing.Capacity, 320, 384);

    /// <summary>Makes a segment with rings of the given sizes (multiples of 4096) and writes a fresh cookie into it.</summary>
    /// <exception cref="IOException">No /dev/shm, or no room in it.</exception>
    public static SharedSegment Create(long toServerBytes, long toClientBytes, out byte[] cookie)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new IOException("shared memory between processes is implemented for Linux (/dev/shm) only");
        }

        string name = Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        string path = Path.Combine(Folder, name);
        long total = TensorRingsOffset + toServerBytes + toClientBytes;
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            PreallocationSize = total,
        };
        var stream = new FileStream(path, options);
        try
        {
            var segment = Map(name, path, stream, total, toServerBytes, toClientBytes);
            cookie = RandomNumberGenerator.GetBytes(CookieBytes);
            byte* data = segment.Acquire();
            try
            {
                cookie.CopyTo(new Span<byte>(data, CookieBytes));
            }
            finally
            {
                segment.Release();
            }

            return segment;
        }
        catch
        {
            stream.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Opens the segment a peer named, checks its size and cookie, and unlinks its name (nothing is left to clean up
    /// from here on). Throws <see cref="IOException"/> with the reason it cannot be shared.
    /// </summary>
    public static SharedSegment Open(string name, long toServerBytes, long toClientBytes, ReadOnlySpan<byte> cookie)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new IOException($"'{name}' is not a Tessera shared-memory name");
        }

        string path = Path.Combine(Folder, name);
        long total = TensorRingsOffset + toServerBytes + toClientBytes;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot open {path} (another host, container or user?): {e.Message}");
        }

        SharedSegment segment;
        try
        {
            if (stream.Length != total)
            {
                throw new IOException($"{path} holds {stream.Length} bytes, not the {total} offered");
            }

            segment = Map(name, path, stream, total, toServerBytes, toClientBytes);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        segment.Unlink();
        byte* data = segment.Acquire();
        try
        {
            if (!cookie.SequenceEqual(new ReadOnlySpan<byte>(data, CookieBytes)))
            {
                segment.Dispose();
                throw new IOException($"{path} is not the segment offered (its cookie differs)");
            }
        }
        finally
        {
            segment.Release();
        }

        return segment;
    }

    private static SharedSegment Map(string name, string path, FileStream stream, long total, long toServerBytes, long toClientBytes)
    {
        var file = MemoryMappedFile.CreateFromFile(stream, null, total, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        try
        {
            return new SharedSegment(name, path, file, file.CreateViewAccessor(0, total, MemoryMappedFileAccess.ReadWrite), toServerBytes, toClientBytes);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The mapping's first byte, held mapped until <see cref="Release"/> even if the connection is disposed meanwhile
    /// (a copy in progress never touches unmapped memory). Throws <see cref="ClusterException"/> once disposed.
    /// </summary>
    public byte* Acquire()
    {
        byte* data = null;
        try
        {
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref data);
        }
        catch (ObjectDisposedException)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
        }

        return data + _view.PointerOffset;
    }

    public void Release() => _view.SafeMemoryMappedViewHandle.ReleasePointer();

    /// <summary>Maps [<paramref name="offset"/>, + <paramref name="bytes"/>) of the segment (page-aligned) into this process now (<see cref="Libc.PopulateForWriting"/>).</summary>
    public void PopulateForWriting(long offset, long bytes)
    {
        byte* data = Acquire();
        try
        {
            Libc.PopulateForWriting(data + offset, bytes);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Removes the name from /dev/shm (the mappings stay); a second call does nothing.</summary>
    public void Unlink()
    {
        string? path = Interlocked.Exchange(ref _path, null);
        if (path is not null)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    public void Dispose()
    {
        Unlink();
        _view.Dispose();
        _file.Dispose();
    }

    [GeneratedRegex("^tessera-[0-9a-f]{32}$")]
    private static partial Regex NamePattern();
}
