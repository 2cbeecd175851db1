package dev.irtj.tensor;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Why a file-system call failed, in words that fit a one-line message after the action:
 * "cannot create run folder /x/y: /x is a file, not a folder". java.nio's exceptions carry only
 * the path in their message ({@code NoSuchFileException: /x/y}), which names the file but not the
 * problem.
 */
public final class FileProblems {
    private FileProblems() {
    }

    /** The problem, naming the file involved (which may be a parent of the one asked for). */
    public static String why(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            String file = f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
            if (f.getReason() != null && !f.getReason().isBlank()) {
                return file + ": " + lowerFirst(f.getReason().strip());
            }
            if (e instanceof FileAlreadyExistsException) return file + " already exists and is not a folder";
            if (e instanceof NoSuchFileException) return file + " does not exist";
            if (e instanceof AccessDeniedException) return "permission denied on " + file;
            if (e instanceof NotDirectoryException) return file + " is not a folder";
            if (e instanceof DirectoryNotEmptyException) return file + " is a folder that is not empty";
            return file + ": " + e.getClass().getSimpleName();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    private static String lowerFirst(String s) {
        // "Read-only file system" reads better mid-sentence as "read-only file system"; keep acronyms.
        return s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))
                ? Character.toLowerCase(s.charAt(0)) + s.substring(1) : s;
    }
}
