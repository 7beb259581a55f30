module edgefleet.local/toolchain/language-host

go 1.26

require github.com/pulumi/pulumi/sdk/v3 v3.68.0 // indirect
