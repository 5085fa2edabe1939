namespace Tessera.Engine.Quantization;

/// <summary>A model or option the quantizer cannot work with; the message is one line for the user.</summary>
public sealed class QuantizationException(string message) : Exception(message);
