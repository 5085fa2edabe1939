using Google.Protobuf;
using Tessera.Onnx.Protobuf;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// The folder fuzzed models and tensors resolve external data in: one 4 KiB file, <see cref="FileName"/>, made once
/// per process, so that inputs naming it read real bytes and inputs naming anything else fail to find it.
/// </summary>
internal static class ExternalDataFolder
{
    public const string FileName = "weights.bin";

    private static readonly Lazy<string> s_path = new(() =>
    {
        string dir = Directory.CreateTempSubdirectory("tessera-fuzz-").FullName;
        File.WriteAllBytes(System.IO.Path.Combine(dir, FileName), [.. Enumerable.Range(0, 4096).Select(i => (byte)i)]);
        return dir;
    });

    public static string Path => s_path.Value;

    /// <summary>A float tensor [2, 4] stored externally at offset 64, and the same with its length given.</summary>
    public static IEnumerable<byte[]> TensorSeeds()
    {
        yield return External("w", offset: 64, length: null).ToByteArray();
        yield return External("w", offset: 0, length: 32).ToByteArray();
    }

    public static TensorProto External(string name, long offset, long? length)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        proto.Dims.Add([2, 4]);
        proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = FileName });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        if (length is { } l)
        {
            proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        return proto;
    }
}
