namespace Tessera.Engine.Quantization;

/// <summary>How `tessera quantize` treats activations.</summary>
public enum QuantizationMode
{
    /// <summary>Weights int8 offline; activations quantized at run time from their range (DynamicQuantizeLinear, MatMulInteger, ConvInteger).</summary>
    Dynamic,

    /// <summary>Weights int8 and activations uint8 with ranges calibrated on sample inputs, written as QuantizeLinear/DequantizeLinear pairs (QDQ).</summary>
    Static,
}
