// Error classes shared by the GL binding and the displays.

export class GLError extends Error {
  constructor(code, glName, call) {
    super(`${glName} (0x${code.toString(16)}) in ${call}`);
    this.name = 'GLError';
    this.code = code;
    this.glName = glName;
    this.call = call;
  }
}

export class GLShaderError extends Error {
  constructor(message, infoLog) {
    super(`${message}:\n${infoLog}`);
    this.name = 'GLShaderError';
    this.infoLog = infoLog;
  }
}

export class DisplayError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'DisplayError';
    this.code = code;
  }
}
