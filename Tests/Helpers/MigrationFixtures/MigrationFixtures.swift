// Record types of three versions and the steps between them, shared by the migration tests and
// the `migration-child` process they kill mid-run.
public import TimelineDocumentStore
internal import Foundation

/// Version 1: a person with a name and a city; indexed by city.
public struct PersonV1: Codable, Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var city: String
    public init(id: Int64, name: String, city: String) { self.id = id; self.name = name; self.city = city }
}

/// Version 2: `name` renamed to `fullName`.
public struct PersonV2: Codable, Equatable, Sendable {
    public var id: Int64
    public var fullName: String
    public var city: String
    public init(id: Int64, fullName: String, city: String) { self.id = id; self.fullName = fullName; self.city = city }
}

/// Version 3: a derived `initial`, and the indexed value changed from the city to an upper-case code.
public struct PersonV3: Codable, Equatable, Sendable {
    public var id: Int64
    public var fullName: String
    public var initial: String
    public var cityCode: String
    public init(id: Int64, fullName: String, initial: String, cityCode: String) {
        self.id = id; self.fullName = fullName; self.initial = initial; self.cityCode = cityCode
    }
}

public enum People {
    public static let cities = ["lisbon", "porto", "braga", "faro", "evora", "coimbra", "aveiro"]

    /// The version-1 record number `index` (names and cities vary; a few names are empty).
    public static func v1(_ index: Int) -> PersonV1 {
        PersonV1(id: Int64(index), name: index % 97 == 0 ? "" : "Person \(index) Ünï", city: cities[index % cities.count])
    }

    /// What `v1(index)` must look like after both migrations.
    public static func v3(_ index: Int) -> PersonV3 {
        let old = v1(index)
        return PersonV3(id: old.id, fullName: old.name, initial: old.name.first.map(String.init) ?? "", cityCode: old.city.uppercased())
    }

    /// 1 → 2: rename a field, on the generic value.
    public static let renameName = MigrationStep.update(from: 1) { person in
        person["fullName"] = person["name"]
        person["name"] = nil
    }

    /// 2 → 3: derive a field and change the indexed value, through the typed old version.
    public static func deriveInitial(failingAt failing: Int64? = nil) -> MigrationStep {
        .typed(from: 2, PersonV2.self) { old in
            if old.id == failing { throw StepFailure(id: old.id) }
            return PersonV3(id: old.id, fullName: old.fullName, initial: old.fullName.first.map(String.init) ?? "", cityCode: old.city.uppercased())
        }
    }

    public static func openV1(_ store: Store) throws -> DocumentCollection<PersonV1> {
        try store.collection("people", version: 1, primaryKey: { KeyBytes($0.id) }, indexes: [Index("byCity") { KeyBytes($0.city) }])
    }

    public static func openV2(_ store: Store) throws -> DocumentCollection<PersonV2> {
        try store.collection("people", version: 2, primaryKey: { KeyBytes($0.id) }, indexes: [Index("byCity") { KeyBytes($0.city) }],
                             migrations: [renameName])
    }

    public static func openV3(_ store: Store, failingAt failing: Int64? = nil) throws -> DocumentCollection<PersonV3> {
        try store.collection("people", version: 3, primaryKey: { KeyBytes($0.id) }, indexes: [Index("byCity") { KeyBytes($0.cityCode) }],
                             migrations: [renameName, deriveInitial(failingAt: failing)])
    }

    /// Writes `count` version-1 people into a new store at `path`.
    public static func writeV1Store(_ path: String, count: Int) throws {
        let store = try Store(path: path, configuration: .init(durability: .noSync))
        let people = try openV1(store)
        try store.write { txn in
            for index in 0..<count { try people.put(v1(index), in: txn) }
        }
    }
}

/// The error the deliberately broken step throws.
public struct StepFailure: Error, Equatable {
    public let id: Int64
    public init(id: Int64) { self.id = id }
}
