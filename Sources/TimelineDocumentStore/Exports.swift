// `import TimelineDocumentStore` brings the types its API uses: `CBORValue` (migration steps),
// `CBORRecordDecodable` (fast record reads) and the LMDB layer (`Transaction`, `KeyRange`…).
@_exported public import TimelineCBOR
@_exported public import TimelineLMDB
