namespace Tessera.Cluster.Transport;

/// <summary>The names of <see cref="WireDataType"/> on command lines and in reports.</summary>
public static class WireDataTypeNames
{
    public const string Names = "float32|float16|bfloat16";

    /// <summary>The wire data type named <paramref name="name"/>; an <see cref="ArgumentException"/> with a one-line message otherwise.</summary>
    public static WireDataType Parse(string name) => name switch
    {
        "float32" => WireDataType.Float32,
        "float16" => WireDataType.Float16,
        "bfloat16" => WireDataType.BFloat16,
        _ => throw new ArgumentException($"unknown wire data type '{name}' (expected {Names})"),
    };

    public static string Name(WireDataType type) => type switch
    {
        WireDataType.Float16 => "float16",
        WireDataType.BFloat16 => "bfloat16",
        _ => "float32",
    };

    /// <summary>Whether <paramref name="value"/>, read from the wire, names a wire data type.</summary>
    public static bool IsDefined(byte value) => value is (byte)WireDataType.Float32 or (byte)WireDataType.Float16 or (byte)WireDataType.BFloat16;
}
