using Tessera.Onnx.Protobuf;

namespace Tessera.Tensors.Formats;

/// <summary>Reads initializers stored outside the model file (TensorProto.data_location = EXTERNAL).</summary>
internal static class ExternalData
{
    public static void Read(TensorProto proto, string? baseDirectory, Tensor into)
    {
        string? location = null;
        long offset = 0;
        long length = -1;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = long.Parse(entry.Value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "length": length = long.Parse(entry.Value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }

        if (string.IsNullOrEmpty(location))
        {
            throw new InvalidDataException($"tensor '{proto.Name}' is marked external but names no location");
        }

        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
        {
            throw new InvalidDataException($"tensor '{proto.Name}' names external file '{location}' outside the model's folder");
        }

        string path = Path.Combine(baseDirectory ?? ".", location);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"external data file '{path}' for tensor '{proto.Name}' does not exist");
        }

        if (length >= 0 && length != into.ByteLength)
        {
            throw new InvalidDataException($"tensor '{proto.Name}' has {length} external bytes where its shape needs {into.ByteLength}");
        }

        using var stream = File.OpenRead(path);
        if (offset < 0 || offset + into.ByteLength > stream.Length)
        {
            throw new InvalidDataException($"tensor '{proto.Name}' reads past the end of '{location}'");
        }

        stream.Position = offset;
        stream.ReadExactly(into.Bytes);
    }
}
