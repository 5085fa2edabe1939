using System.Globalization;
using Tessera.Onnx.Protobuf;

namespace Tessera.Tensors.Formats;

/// <summary>Reads initializers stored outside the model file (TensorProto.data_location = EXTERNAL).</summary>
internal static class ExternalData
{
    /// <summary>The tensor, allocated once its location, offset and length are known to lie inside the data file.</summary>
    public static Tensor Read(TensorProto proto, string? baseDirectory, DataType type, int[] shape, long byteLength)
    {
        string? location = null;
        long offset = 0;
        long length = -1;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = Number(proto, entry); break;
                case "length": length = Number(proto, entry); break;
            }
        }

        if (string.IsNullOrEmpty(location))
        {
            throw new InvalidDataException($"tensor '{TensorProtoFormat.NameOf(proto)}' is marked external but names no location");
        }

        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
        {
            throw new InvalidDataException($"tensor '{TensorProtoFormat.NameOf(proto)}' names external file '{UntrustedText.OneLine(location, 200)}' outside the model's folder");
        }

        string path = Path.Combine(baseDirectory ?? ".", location);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"external data file '{UntrustedText.OneLine(path, 300)}' for tensor '{TensorProtoFormat.NameOf(proto)}' does not exist");
        }

        if (length >= 0 && length != byteLength)
        {
            throw new InvalidDataException($"tensor '{TensorProtoFormat.NameOf(proto)}' has {length} external bytes where its shape needs {byteLength}");
        }

        using var stream = File.OpenRead(path);
        if (byteLength > stream.Length - offset)
        {
            throw new InvalidDataException($"tensor '{TensorProtoFormat.NameOf(proto)}' reads past the end of '{UntrustedText.OneLine(location, 200)}'");
        }

        var tensor = Tensor.Allocate(type, shape);
        stream.Position = offset;
        stream.ReadExactly(tensor.Bytes);
        return tensor;
    }

    private static long Number(TensorProto proto, StringStringEntryProto entry) =>
        long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new InvalidDataException($"tensor '{TensorProtoFormat.NameOf(proto)}' has external data {entry.Key} '{UntrustedText.OneLine(entry.Value, 40)}', not a byte count");
}
