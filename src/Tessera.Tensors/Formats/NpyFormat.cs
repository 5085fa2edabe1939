using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tessera.Tensors.Formats;

/// <summary>NumPy .npy files, format versions 1.0 to 3.0, little-endian, C order (what NumPy writes by default).</summary>
public static partial class NpyFormat
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            return Read(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
    }

    public static Tensor Read(Stream stream)
    {
        var header = ReadHeader(stream);
        if (stream.CanSeek && stream.Length - stream.Position < header.DataBytes)
        {
            // A header may declare gigabytes: a file too short for them is refused before anything is allocated.
            throw new InvalidDataException($"truncated .npy data: {stream.Length - stream.Position} of {header.DataBytes} bytes");
        }

        try
        {
            ShapeMath.ElementCount(header.Shape);
        }
        catch (NotSupportedException e)
        {
            // A memory-mapped dataset column may be larger (NpyColumnFile); one tensor may not.
            throw new InvalidDataException($"{e.Message}, too many for one tensor");
        }

        var tensor = Tensor.Allocate(header.DataType, header.Shape);
        int read = stream.ReadAtLeast(tensor.Bytes, tensor.ByteLength, throwOnEndOfStream: false);
        if (read < tensor.ByteLength)
        {
            throw new InvalidDataException($"truncated .npy data: {read} of {tensor.ByteLength} bytes");
        }

        return tensor;
    }

    /// <summary>
    /// Reads the preamble of a .npy file (magic, version, header) and leaves <paramref name="stream"/> at the first
    /// byte of the data, whose offset the header gives (so a large file's data can be mapped rather than read).
    /// </summary>
    public static NpyHeader ReadHeader(Stream stream)
    {
        Span<byte> prefix = stackalloc byte[10];
        int read = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (read < Magic.Length || !prefix[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a .npy file (bad magic)");
        }

        if (read < prefix.Length)
        {
            throw new InvalidDataException("truncated .npy header");
        }

        int major = prefix[6];
        if (major is not (1 or 2 or 3))
        {
            throw new InvalidDataException($".npy format version {major} is not supported");
        }

        // Version 1 gives the header's length in 2 bytes, versions 2 and 3 in 4; the first 2 came with the prefix.
        Span<byte> len = stackalloc byte[4];
        prefix[8..].CopyTo(len);
        if (major != 1 && stream.ReadAtLeast(len[2..], 2, throwOnEndOfStream: false) < 2)
        {
            throw new InvalidDataException("truncated .npy header");
        }

        int headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(len) : BinaryPrimitives.ReadInt32LittleEndian(len);

        if (headerLength is < 0 or > 1 << 20)
        {
            throw new InvalidDataException("corrupt .npy header length");
        }

        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerLength, throwOnEndOfStream: false) < headerLength)
        {
            throw new InvalidDataException("truncated .npy header");
        }

        string header = Encoding.Latin1.GetString(headerBytes);
        string descr = Match(DescrRegex(), header, "descr");
        string fortran = Match(FortranRegex(), header, "fortran_order");
        string shapeText = Match(ShapeRegex(), header, "shape");
        if (fortran == "True")
        {
            throw new InvalidDataException("Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray");
        }

        DataType type = ParseDescr(descr);
        int[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ParseDimension).ToArray();
        if (!shape.Contains(0) && shape.Aggregate((double)DataTypes.SizeOf(type), (n, d) => n * d) > long.MaxValue / 2)
        {
            throw new InvalidDataException($"corrupt .npy header: shape ({string.Join(", ", shape)}) declares more data than a file can hold");
        }

        return new NpyHeader(type, shape, (major == 1 ? 10 : 12) + headerLength);
    }

    private static int ParseDimension(string text) =>
        int.TryParse(text.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out int d)
            ? d
            : throw new InvalidDataException($"corrupt .npy header: dimension '{UntrustedText.OneLine(text, 40)}' is not a count up to {int.MaxValue}");

    public static void WriteFile(string path, Tensor tensor)
    {
        using var stream = File.Create(path);
        Write(stream, tensor);
    }

    public static void Write(Stream stream, Tensor tensor)
    {
        WriteHeader(stream, tensor.DataType, tensor.Shape);
        stream.Write(tensor.Bytes);
    }

    /// <summary>The preamble of a .npy file holding <paramref name="shape"/>; the data, in C order, follows it.</summary>
    public static void WriteHeader(Stream stream, DataType type, ReadOnlySpan<int> shape)
    {
        string dims = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape.ToArray()) + ")",
        };
        string header = $"{{'descr': '{Descr(type)}', 'fortran_order': False, 'shape': {dims}, }}";
        // The whole preamble (magic, version, length, header, newline) is padded to a multiple of 64 bytes.
        int total = 10 + header.Length + 1;
        int padded = (total + 63) / 64 * 64;
        header = header.PadRight(header.Length + (padded - total)) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        stream.Write(Encoding.Latin1.GetBytes(header));
    }

    private static string Match(Regex regex, string header, string key)
    {
        var m = regex.Match(header);
        if (!m.Success)
        {
            throw new InvalidDataException($"corrupt .npy header: no '{key}'");
        }

        return m.Groups[1].Value;
    }

    private static DataType ParseDescr(string descr)
    {
        if (descr.Length > 1 && descr[0] == '>' && descr[1..] is not ("i1" or "u1" or "b1"))
        {
            throw new InvalidDataException($"big-endian .npy data ('{UntrustedText.OneLine(descr, 40)}') is not supported");
        }

        return descr.TrimStart('<', '|', '=') switch
        {
            "f4" => DataType.Float32,
            "f8" => DataType.Float64,
            "f2" => DataType.Float16,
            "i8" => DataType.Int64,
            "i4" => DataType.Int32,
            "i2" => DataType.Int16,
            "i1" => DataType.Int8,
            "u8" => DataType.UInt64,
            "u4" => DataType.UInt32,
            "u2" => DataType.UInt16,
            "u1" => DataType.UInt8,
            "b1" => DataType.Bool,
            _ => throw new InvalidDataException($".npy dtype '{UntrustedText.OneLine(descr, 40)}' is not supported"),
        };
    }

    private static string Descr(DataType type) => type switch
    {
        DataType.Float32 => "<f4",
        DataType.Float64 => "<f8",
        DataType.Float16 => "<f2",
        DataType.Int64 => "<i8",
        DataType.Int32 => "<i4",
        DataType.Int16 => "<i2",
        DataType.Int8 => "|i1",
        DataType.UInt64 => "<u8",
        DataType.UInt32 => "<u4",
        DataType.UInt16 => "<u2",
        DataType.UInt8 => "|u1",
        DataType.Bool => "|b1",
        _ => throw new NotSupportedException($"{DataTypes.Name(type)} tensors cannot be written to .npy"),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
