package functions

import (
	"time"
)

// SID prefixes of the Serverless resources.
const (
	prefixService     = "ZS"
	prefixEnvironment = "ZE"
	prefixFunction    = "ZH" // Functions and Assets alike
	prefixVersion     = "ZN" // Function and Asset Versions alike
	prefixBuild       = "ZB"
	prefixDeployment  = "ZD"
	prefixVariable    = "ZV"
	prefixRequest     = "RQ"
)

// Resource kinds, as stored.
const (
	kindService     = "service"
	kindEnvironment = "environment"
	kindFunction    = "function"
	kindAsset       = "asset"
	kindVersion     = "version"
	kindBuild       = "build"
	kindDeployment  = "deployment"
	kindVariable    = "variable"
)

// Visibilities of Function and Asset Versions.
const (
	Public    = "public"
	Protected = "protected"
	Private   = "private"
)

// Build statuses.
const (
	buildBuilding  = "building"
	buildCompleted = "completed"
	buildFailed    = "failed"
)

// Service owns Functions, Assets, Builds and Environments.
type Service struct {
	SID                string    `json:"sid"`
	UniqueName         string    `json:"unique_name"`
	FriendlyName       string    `json:"friendly_name"`
	IncludeCredentials bool      `json:"include_credentials"`
	UIEditable         bool      `json:"ui_editable"`
	DateCreated        time.Time `json:"date_created"`
	DateUpdated        time.Time `json:"date_updated"`
}

// Environment is where a Build is deployed (its BuildSID is live).
type Environment struct {
	SID          string    `json:"sid"`
	ServiceSID   string    `json:"service_sid"`
	UniqueName   string    `json:"unique_name"`
	DomainSuffix string    `json:"domain_suffix"`
	BuildSID     string    `json:"build_sid"`
	DateCreated  time.Time `json:"date_created"`
	DateUpdated  time.Time `json:"date_updated"`
}

// Resource is a Function or an Asset (Kind tells which).
type Resource struct {
	SID          string    `json:"sid"`
	Kind         string    `json:"kind"`
	ServiceSID   string    `json:"service_sid"`
	FriendlyName string    `json:"friendly_name"`
	DateCreated  time.Time `json:"date_created"`
	DateUpdated  time.Time `json:"date_updated"`
}

// Version is one immutable upload of a Function's code or an Asset's
// content; the bytes live in a file named by the SID.
type Version struct {
	SID         string    `json:"sid"`
	ServiceSID  string    `json:"service_sid"`
	ResourceSID string    `json:"resource_sid"`
	Kind        string    `json:"kind"` // of the resource: function or asset
	Path        string    `json:"path"`
	Visibility  string    `json:"visibility"`
	DateCreated time.Time `json:"date_created"`
}

// Dependency is an npm package of a Build.
type Dependency struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Build freezes Function and Asset Versions with their npm dependencies.
type Build struct {
	SID              string       `json:"sid"`
	ServiceSID       string       `json:"service_sid"`
	Status           string       `json:"status"`
	FunctionVersions []string     `json:"function_versions"`
	AssetVersions    []string     `json:"asset_versions"`
	Dependencies     []Dependency `json:"dependencies"`
	Runtime          string       `json:"runtime"`
	Error            string       `json:"error,omitempty"`
	DateCreated      time.Time    `json:"date_created"`
	DateUpdated      time.Time    `json:"date_updated"`
}

// Deployment points an Environment at a Build.
type Deployment struct {
	SID            string    `json:"sid"`
	ServiceSID     string    `json:"service_sid"`
	EnvironmentSID string    `json:"environment_sid"`
	BuildSID       string    `json:"build_sid"`
	DateCreated    time.Time `json:"date_created"`
	DateUpdated    time.Time `json:"date_updated"`
}

// Variable is a key/value of an Environment, given to its functions as
// context.KEY and process.env.KEY.
type Variable struct {
	SID            string    `json:"sid"`
	ServiceSID     string    `json:"service_sid"`
	EnvironmentSID string    `json:"environment_sid"`
	Key            string    `json:"key"`
	Value          string    `json:"value"`
	DateCreated    time.Time `json:"date_created"`
	DateUpdated    time.Time `json:"date_updated"`
}
