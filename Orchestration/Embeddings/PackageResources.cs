using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Reads resources embedded in a package's assembly without loading it. Loaded, even into a collectible
/// context that is unloaded at once, the 87 MB model assembly stayed mapped and resident until some later
/// full collection with finalizers; read through a <see cref="PEReader"/>, its file is closed when the read ends.
/// </summary>
internal static class PackageResources
{
    public static (byte[] First, byte[] Second) Read(string assemblyPath, string first, string second)
    {
        using var file = File.OpenRead(assemblyPath);
        using var image = new PEReader(file);
        var metadata = image.GetMetadataReader();
        var resources = image.GetSectionData(image.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress);
        return (Read(metadata, resources, first, assemblyPath), Read(metadata, resources, second, assemblyPath));
    }

    private static byte[] Read(MetadataReader metadata, PEMemoryBlock resources, string name, string assemblyPath)
    {
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (resource.Implementation.IsNil && metadata.StringComparer.Equals(resource.Name, name))
            {
                // An embedded resource is its length (4 bytes, little-endian) and then its bytes, at its offset
                // into the image's resources directory (ECMA-335 II.24.2.4).
                var reader = resources.GetReader((int)resource.Offset, resources.Length - (int)resource.Offset);
                return reader.ReadBytes(reader.ReadInt32());
            }
        }

        throw new InvalidDataException($"{assemblyPath} has no embedded resource {name}.");
    }
}
