export * from "./deviceConnection";
export * from "./edgeDevice";
export * from "./serviceContainer";
