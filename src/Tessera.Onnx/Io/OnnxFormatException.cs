using Tessera.Tensors;

namespace Tessera.Onnx.Io;

/// <summary>The file is not a well-formed ONNX model (truncated, corrupt, or inconsistent); the message is one line whatever names the file holds.</summary>
public sealed class OnnxFormatException(string message, Exception? inner = null) : Exception(UntrustedText.OneLine(message), inner);
