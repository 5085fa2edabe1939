namespace Tessera.Onnx.Io;

/// <summary>The file is not a well-formed ONNX model (truncated, corrupt, or inconsistent).</summary>
public sealed class OnnxFormatException(string message, Exception? inner = null) : Exception(message, inner);
